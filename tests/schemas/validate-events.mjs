#!/usr/bin/env node
// Validates stored authledger events against the JSON Schemas in schemas/events/.
//
//   node tests/schemas/validate-events.mjs EVENTS.jsonl [--no-chain]
//
// EVENTS.jsonl holds one event per line, exactly the bytes the ledger stores
// (tests/schemas/ledger_to_jsonl.py writes such a file from a data directory).
// Each line is validated against the schema named by its `type`
// (schemas/events/<type>.schema.json, which references envelope.schema.json);
// an unknown type is a failure. Beyond what JSON Schema can say, it checks:
//   - source == "/accounts/" + partitionkey
//   - subject == "keys/" + data.key_id for key events
//   - event ids are unique
//   - per account, in file order: accountseq is 1, 2, 3, ... and prevhash is the
//     SHA-256 of the previous line's bytes (64 zeros for the first event).
//     --no-chain skips this for files that hold only some of the ledger's events.
// Prints "N events validated against M schemas" and the types never seen; exits
// 1 listing every failure (line number, type, error), 2 on a usage or setup error.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
const schemaDir = resolve(here, '..', '..', 'schemas', 'events');
const ENVELOPE = 'envelope.schema.json';
const GENESIS = '0'.repeat(64);

function usage(msg) {
  console.error(`validate-events: ${msg}\nusage: node validate-events.mjs EVENTS.jsonl [--no-chain]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const checkChain = !args.includes('--no-chain');
const files = args.filter((a) => a !== '--no-chain');
if (files.length !== 1) usage('expected exactly one JSON Lines file');
const eventsPath = files[0];

// --- load the schemas -------------------------------------------------------
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);

const validators = new Map(); // type -> validate function
let schemaCount = 0;
try {
  const names = readdirSync(schemaDir).filter((n) => n.endsWith('.schema.json')).sort();
  const schemas = names.map((n) => ({ name: n, schema: JSON.parse(readFileSync(join(schemaDir, n), 'utf8')) }));
  for (const { name, schema } of schemas) {
    if (!schema.$id) throw new Error(`${name}: no $id`);
    ajv.addSchema(schema);
    schemaCount++;
  }
  if (!schemas.some((s) => s.name === ENVELOPE)) throw new Error(`${ENVELOPE} is missing`);
  for (const { name, schema } of schemas) {
    if (name === ENVELOPE) continue;
    const type = name.slice(0, -'.schema.json'.length);
    if (schema.properties?.type?.const !== type)
      throw new Error(`${name}: properties.type.const must be "${type}" (the file is named by its type)`);
    validators.set(type, ajv.getSchema(schema.$id));
  }
  // Every type the envelope admits has its own schema, and vice versa.
  const envelopeTypes = ajv.getSchema(schemas.find((s) => s.name === ENVELOPE).schema.$id).schema.properties.type.enum;
  for (const t of envelopeTypes) if (!validators.has(t)) throw new Error(`no schema for type ${t} (listed in ${ENVELOPE})`);
  for (const t of validators.keys()) if (!envelopeTypes.includes(t)) throw new Error(`${t}.schema.json: type not in ${ENVELOPE}'s enum`);
} catch (e) {
  console.error(`validate-events: cannot load the schemas in ${schemaDir}: ${e.message}`);
  process.exit(2);
}

// --- read the events ---------------------------------------------------------
let raw;
try {
  raw = readFileSync(eventsPath);
} catch (e) {
  usage(`cannot read ${eventsPath}: ${e.message}`);
}
// Split on \n only, keeping each line's exact bytes (the hash chain is over them).
const lines = [];
for (let start = 0; start < raw.length; ) {
  let end = raw.indexOf(0x0a, start);
  if (end === -1) end = raw.length;
  lines.push(raw.subarray(start, end));
  start = end + 1;
}

const failures = [];
const fail = (lineNo, type, msg) => failures.push({ lineNo, type, msg });
const seenTypes = new Map(); // type -> count
const seenIds = new Map(); // event id -> line
const chains = new Map(); // account -> { seq, hash }
let events = 0;

lines.forEach((bytes, i) => {
  const lineNo = i + 1;
  if (bytes.length === 0) {
    if (i !== lines.length - 1) fail(lineNo, '-', 'empty line');
    return;
  }
  events++;
  let e;
  try {
    e = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    fail(lineNo, '-', `not JSON: ${err.message}`);
    return;
  }
  const type = e && typeof e === 'object' && typeof e.type === 'string' ? e.type : undefined;
  const validate = type && validators.get(type);
  if (!validate) {
    fail(lineNo, type ?? '-', type ? `unknown event type "${type}" (no schemas/events/${type}.schema.json)` : 'no "type"');
    return;
  }
  seenTypes.set(type, (seenTypes.get(type) ?? 0) + 1);
  if (!validate(e)) {
    for (const err of validate.errors) {
      const extra = err.params && Object.keys(err.params).length ? ` ${JSON.stringify(err.params)}` : '';
      fail(lineNo, type, `${err.instancePath || '/'} ${err.message}${extra} [${err.schemaPath}]`);
    }
    // Keep following the account's chain so one bad event is reported once.
    if (checkChain && typeof e.partitionkey === 'string' && Number.isInteger(e.accountseq))
      chains.set(e.partitionkey, { seq: e.accountseq, hash: createHash('sha256').update(bytes).digest('hex') });
    return;
  }
  // Cross-field rules JSON Schema cannot express.
  if (e.source !== `/accounts/${e.partitionkey}`)
    fail(lineNo, type, `source "${e.source}" does not name partitionkey "${e.partitionkey}"`);
  if ('key_id' in e.data && e.subject !== `keys/${e.data.key_id}`)
    fail(lineNo, type, `subject "${e.subject}" is not "keys/${e.data.key_id}"`);
  if (seenIds.has(e.id)) fail(lineNo, type, `duplicate event id ${e.id} (first on line ${seenIds.get(e.id)})`);
  else seenIds.set(e.id, lineNo);
  if (checkChain) {
    const prev = chains.get(e.partitionkey) ?? { seq: 0, hash: GENESIS };
    if (e.accountseq !== prev.seq + 1)
      fail(lineNo, type, `accountseq ${e.accountseq} of ${e.partitionkey}, expected ${prev.seq + 1}`);
    if (e.prevhash !== prev.hash)
      fail(lineNo, type, `prevhash ${e.prevhash} breaks ${e.partitionkey}'s hash chain, expected ${prev.hash}`);
    chains.set(e.partitionkey, { seq: e.accountseq, hash: createHash('sha256').update(bytes).digest('hex') });
  }
});

// --- report --------------------------------------------------------------------
console.log(`${events} events validated against ${schemaCount} schemas` +
            ` (${validators.size} event types + envelope; ${checkChain ? `hash chains of ${chains.size} account(s) checked` : 'hash chains not checked'})`);
for (const [t, n] of [...seenTypes].sort()) console.log(`  ${String(n).padStart(5)}  ${t}`);
const uncovered = [...validators.keys()].filter((t) => !seenTypes.has(t)).sort();
if (uncovered.length) console.log(`types not covered by this file: ${uncovered.join(', ')}`);
else console.log('every event type is covered');

if (events === 0) fail(0, '-', `${eventsPath} holds no events`);
if (failures.length) {
  console.error(`\n${failures.length} failure(s):`);
  for (const f of failures) console.error(`  line ${f.lineNo} [${f.type}]: ${f.msg}`);
  console.error('FAILED');
  process.exit(1);
}
console.log('OK');
