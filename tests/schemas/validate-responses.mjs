#!/usr/bin/env node
// Validates captured HTTP exchanges against the OpenAPI document schemas/openapi.json.
//
//   node tests/schemas/validate-responses.mjs EXCHANGES.jsonl [--require-all-operations]
//
// First the document itself: it must be valid OpenAPI 3.1 (@seriousme/openapi-schema-validator,
// which checks it against the official 3.1 schema), every local $ref must resolve, every operation
// must have responses and a unique operationId, every {param} of a path template must be declared,
// and every schema in components/schemas must compile as JSON Schema 2020-12 (ajv, strict mode).
//
// Then each line of EXCHANGES.jsonl, one exchange as captured by tests/schemas/responses.sh:
//   {"method":"POST","path_template":"/v1/keys","status":201,
//    "headers":{"content-type":"application/json",...},   (names lowercase)
//    "body":<parsed JSON, or the raw text>}
// is checked against the response the document gives for (path template, method, status):
//   - the operation and the status must be documented; a path the document does not have may only
//     answer 404, and a documented path with an undocumented method only 405 with an Allow header
//     naming the documented methods (the document's `x-authledger-unrouted` responses);
//   - the Content-Type must be one the response documents (an empty body needs a response without
//     content);
//   - every header the response marks required must be present, and every documented header present
//     must match its schema;
//   - the body must validate against the media type's schema;
//   - beyond JSON Schema: a problem's `status` equals the HTTP status, `X-Ledger-Position` equals the
//     body's `position`, `Location` names the body's `id` under the operation's collection (the path
//     template up to its first parameter: /v1/keys/<id> for POST /v1/keys and /v1/keys/{id}/rotate,
//     /v1/oauth/clients/<id> for POST /v1/oauth/clients), and an audit entry's `subject` names its
//     `key_id` (`keys/<id>`) or its `client_id` (`clients/<id>`).
// Prints "N responses validated against the OpenAPI document" (and any operation no exchange
// exercised; --require-all-operations makes that a failure). Exits 1 listing every failure, 2 on a
// usage or setup error.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Validator as OpenApiValidator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
const docPath = resolve(here, '..', '..', 'schemas', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMAS_ID = 'urn:authledger:openapi:components:schemas';

function usage(msg) {
  console.error(`validate-responses: ${msg}\nusage: node validate-responses.mjs EXCHANGES.jsonl [--require-all-operations]`);
  process.exit(2);
}
// Never print a full key or OAuth client secret, whatever a response held.
const redact = (s) =>
  String(s)
    .replace(/[a-z][a-z0-9]{1,9}_(live|test)_[0-9A-Za-z]{51}/g, '<redacted key>')
    .replace(/[a-z][a-z0-9]{1,9}_cs_[0-9A-Za-z]{43}/g, '<redacted client secret>');

const args = process.argv.slice(2);
const requireAll = args.includes('--require-all-operations');
const files = args.filter((a) => a !== '--require-all-operations');
if (files.length !== 1 || files[0].startsWith('--')) usage('expected exactly one JSON Lines file');

let doc;
try {
  doc = JSON.parse(readFileSync(docPath, 'utf8'));
} catch (e) {
  console.error(`validate-responses: cannot load ${docPath}: ${e.message}`);
  process.exit(2);
}

const failures = [];
const fail = (where, msg) => failures.push(`${where}: ${redact(msg)}`);

// --- 1. the document ------------------------------------------------------------------------
const structural = new OpenApiValidator();
const res = await structural.validate(structuredClone(doc));
if (!res.valid) {
  for (const e of [].concat(res.errors ?? [])) fail('openapi.json', `not valid OpenAPI: ${JSON.stringify(e)}`);
} else if (structural.version !== '3.1') {
  fail('openapi.json', `expected an OpenAPI 3.1 document, found ${structural.version}`);
}

function pointer(ref) {
  if (!ref.startsWith('#')) return undefined;
  let node = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}
// Every $ref in the document must be local and resolve.
(function walk(node, path) {
  if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${path}/${i}`));
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      if (!v.startsWith('#')) fail(`openapi.json ${path}`, `non-local $ref ${v}`);
      else if (pointer(v) === undefined) fail(`openapi.json ${path}`, `$ref ${v} does not resolve`);
    } else {
      walk(v, `${path}/${k}`);
    }
  }
})(doc, '#');

// Follows $ref chains of OpenAPI objects (responses, headers, parameters).
function deref(obj) {
  for (let i = 0; obj && typeof obj === 'object' && typeof obj.$ref === 'string' && i < 10; i++) obj = pointer(obj.$ref);
  return obj;
}

const operationIds = new Set();
for (const [template, item] of Object.entries(doc.paths ?? {})) {
  const declared = new Set((item.parameters ?? []).map(deref).filter((p) => p?.in === 'path').map((p) => p.name));
  for (const m of METHODS) {
    const op = item[m];
    if (!op) continue;
    const where = `openapi.json ${m.toUpperCase()} ${template}`;
    if (!op.operationId) fail(where, 'no operationId');
    else if (operationIds.has(op.operationId)) fail(where, `duplicate operationId ${op.operationId}`);
    else operationIds.add(op.operationId);
    if (!op.responses || Object.keys(op.responses).length === 0) fail(where, 'no responses');
    const names = new Set(declared);
    for (const p of (op.parameters ?? []).map(deref)) if (p?.in === 'path') names.add(p.name);
    for (const [, name] of template.matchAll(/\{([^}]+)\}/g))
      if (!names.has(name)) fail(where, `path parameter {${name}} is not declared`);
    for (const [status, r] of Object.entries(op.responses ?? {}))
      if (!deref(r)?.description) fail(where, `response ${status} has no description`);
  }
}

// JSON Schemas: components/schemas is registered once; local refs into it are rewritten to its $id.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
addFormats(ajv);
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
      out[k] = `${SCHEMAS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    else if (k === '$ref' && typeof v === 'string' && v.startsWith('#'))
      throw new Error(`a schema may only $ref #/components/schemas/…, not ${v}`);
    else out[k] = rewriteRefs(v);
  }
  return out;
}
// The document's path template that a concrete path matches; the path itself if none does.
function templateOf(path) {
  const segs = path.split('/').filter(Boolean);
  const templates = Object.keys(doc.paths);
  const fits = (t) => {
    const ts = t.split('/').filter(Boolean);
    return ts.length === segs.length && ts.every((p, i) => /^\{.+\}$/.test(p) || p === segs[i]);
  };
  return templates.filter((t) => !t.includes('{')).find(fits) ?? templates.find(fits) ?? path;
}
const compiled = new Map(); // cache key -> validate function
function compile(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rewriteRefs(schema)));
  return compiled.get(key);
}
try {
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewriteRefs(doc.components?.schemas ?? {}) });
  for (const name of Object.keys(doc.components?.schemas ?? {}))
    compile(`#/components/schemas/${name}`, { $ref: `#/components/schemas/${name}` });
} catch (e) {
  fail('openapi.json components/schemas', `does not compile as JSON Schema 2020-12: ${e.message}`);
}
// Every schema anywhere in paths/components compiles too (request bodies, parameters, headers).
function compileEverywhere(node, path) {
  if (Array.isArray(node)) return node.forEach((v, i) => compileEverywhere(v, `${path}/${i}`));
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'schema' && v && typeof v === 'object') {
      try {
        compile(`${path}/schema`, v);
      } catch (e) {
        fail(`openapi.json ${path}/schema`, `does not compile: ${e.message}`);
      }
    } else if (k !== 'schemas') {
      compileEverywhere(v, `${path}/${k}`);
    }
  }
}
compileEverywhere(doc.paths, '#/paths');
compileEverywhere(doc.components, '#/components');

if (failures.length) {
  console.error(`validate-responses: the OpenAPI document has ${failures.length} problem(s):`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}

// --- 2. the exchanges ---------------------------------------------------------------------------
let lines;
try {
  lines = readFileSync(files[0], 'utf8').split('\n').filter((l) => l.trim() !== '');
} catch (e) {
  usage(`cannot read ${files[0]}: ${e.message}`);
}

const exercised = new Set(); // "METHOD template"
const mediaType = (ct) => String(ct ?? '').toLowerCase().split(';').map((s) => s.trim()).filter(Boolean).join('; ');
const ajvErrors = (errs) =>
  (errs ?? []).slice(0, 8).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`).join('; ');

let count = 0;
lines.forEach((line, i) => {
  let x;
  try {
    x = JSON.parse(line);
  } catch (e) {
    fail(`line ${i + 1}`, `not JSON: ${e.message}`);
    return;
  }
  const method = String(x.method ?? '').toLowerCase();
  const status = Number(x.status);
  // Exchanges recorded by the C++ test client carry the concrete path: find its template
  // (literal paths first, as the server's router does).
  if (x.path_template === undefined && typeof x.path === 'string') x.path_template = templateOf(x.path.split('?')[0]);
  const headers = x.headers ?? {};
  const where = `line ${i + 1} ${String(x.method).toUpperCase()} ${x.path_template} -> ${status}`;
  count++;

  let response;
  let responsePath;
  const item = doc.paths[x.path_template];
  if (!item) {
    if (status !== 404) return fail(where, 'path is not in the OpenAPI document (only 404 is possible there)');
    response = deref(doc['x-authledger-unrouted'].unknownPath);
    responsePath = '#/x-authledger-unrouted/unknownPath';
  } else if (!item[method]) {
    if (status !== 405) return fail(where, `${method.toUpperCase()} is not documented for this path (only 405 is possible)`);
    response = deref(doc['x-authledger-unrouted'].methodNotAllowed);
    responsePath = '#/x-authledger-unrouted/methodNotAllowed';
    const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort();
    const allow = String(headers.allow ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();
    if (allow.join() !== documented.join())
      fail(where, `Allow is "${headers.allow ?? ''}", the document has ${documented.join(', ')}`);
  } else {
    exercised.add(`${method.toUpperCase()} ${x.path_template}`);
    const responses = item[method].responses;
    const key = String(status) in responses ? String(status) : `${String(status)[0]}XX` in responses ? `${String(status)[0]}XX` : 'default';
    if (!(key in responses)) return fail(where, `status ${status} is not documented for this operation`);
    response = deref(responses[key]);
    responsePath = `#/paths/${x.path_template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${key}`;
  }

  // Headers.
  for (const [name, h0] of Object.entries(response.headers ?? {})) {
    const h = deref(h0);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (h.required) fail(where, `required header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const v = compile(`${responsePath}/headers/${name}`, h.schema);
      if (!v(value)) fail(where, `header ${name}: "${value}" ${ajvErrors(v.errors)}`);
    }
  }

  // Content type and body.
  const ct = mediaType(headers['content-type']);
  const content = response.content ?? {};
  const hasBody = !(x.body === undefined || x.body === null || x.body === '');
  if (Object.keys(content).length === 0) {
    if (hasBody) fail(where, 'the response documents no content, but there is a body');
    return;
  }
  const mt = Object.keys(content).find((k) => mediaType(k) === ct);
  if (!mt) return fail(where, `Content-Type "${headers['content-type'] ?? ''}" is not one of: ${Object.keys(content).join(', ')}`);
  let body = x.body;
  if (ct === 'application/x-ndjson' && typeof body === 'string') {
    // JSON Lines: every line must be an AuditEntry.
    const entry = compile('#/components/schemas/AuditEntry', { $ref: '#/components/schemas/AuditEntry' });
    const lines = body.split('\n').filter((l) => l !== '');
    for (const [i, line] of lines.entries()) {
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        return fail(where, `JSON Lines line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      }
      if (!entry(e)) return fail(where, `JSON Lines line ${i + 1}: ${ajvErrors(entry.errors)}`);
    }
    return;
  }
  if (ct.startsWith('text/csv') && typeof body === 'string') {
    if (!body.startsWith('position,time,type,')) return fail(where, 'the CSV has no header row');
    return;
  }
  if (/json/.test(ct) && typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return fail(where, `the body is not JSON: ${body.slice(0, 200)}`);
    }
  }
  const schema = content[mt].schema;
  if (schema) {
    const v = compile(`${responsePath}/content/${mt}`, schema);
    if (!v(body)) return fail(where, ajvErrors(v.errors));
  }

  // Beyond JSON Schema.
  if (ct === 'application/problem+json' && body.status !== status)
    fail(where, `problem status ${body.status} differs from the HTTP status`);
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    if (headers['x-ledger-position'] !== undefined && String(body.position) !== headers['x-ledger-position'])
      fail(where, `X-Ledger-Position ${headers['x-ledger-position']} differs from the body's position ${body.position}`);
    // The created resource lives in the collection of the operation's path template (the part before
    // its first parameter): /v1/keys for POST /v1/keys and POST /v1/keys/{id}/rotate,
    // /v1/oauth/clients for POST /v1/oauth/clients.
    const collection = String(x.path_template).split('/{')[0];
    if (headers.location !== undefined && 'id' in body && headers.location !== `${collection}/${body.id}`)
      fail(where, `Location ${headers.location} does not name ${collection}/${body.id}, the created resource`);
    for (const [j, e] of (body.entries ?? []).entries()) {
      if (e?.key_id !== undefined && e.subject !== `keys/${e.key_id}`)
        fail(where, `entries/${j}: subject ${e.subject} does not name key_id ${e.key_id}`);
      if (e?.client_id !== undefined && e.subject !== `clients/${e.client_id}`)
        fail(where, `entries/${j}: subject ${e.subject} does not name client_id ${e.client_id}`);
    }
  }
});

const unexercised = [];
for (const [template, item] of Object.entries(doc.paths))
  for (const m of METHODS) if (item[m] && !exercised.has(`${m.toUpperCase()} ${template}`)) unexercised.push(`${m.toUpperCase()} ${template}`);
if (unexercised.length) {
  const msg = `operations no exchange exercised: ${unexercised.join(', ')}`;
  if (requireAll) fail(files[0], msg);
  else console.log(msg);
}
if (count === 0) fail(files[0], 'no exchanges');

if (failures.length) {
  console.error(`validate-responses: ${failures.length} failure(s) in ${count} responses:`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log(`${count} responses validated against the OpenAPI document`);
