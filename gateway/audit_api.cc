// GET /v1/audit-log — the caller's account's history, newest first by default.
//
//   since, until   RFC 3339 bounds on the event time (inclusive); the view never
//                  reaches further back than audit.retention (365 days)
//   type           event types, comma-separated (e.g. io.authledger.key.revoked.v1)
//   key_id, client_id, actor, ip   only entries about that key / that OAuth client /
//                  by that actor (id, or email when it holds '@') / from that IP
//   order          newest (default) | oldest
//   limit          1..500 (json) or 1..10000 (jsonl, csv); default 50
//   cursor         next_cursor of the previous page (opaque)
//   format         json (default) | jsonl | csv — jsonl and csv carry the next
//                  cursor in the X-Next-Cursor header instead of the body
//
// GET /v1/audit/public-key — the checkpoint signing key's public half.
//
// The verifiable log (docs/api.md, "Proofs"; keys:admin like the audit log):
// GET /v1/audit/tree-head — each partition's newest signed tree head.
// GET /v1/audit/proof?position=P[&tree_size=N] — inclusion proof of the event
//   at P in its partition's tree of N leaves (default: the newest signed head's).
// GET /v1/audit/consistency?first=M[&second=N][&partition=K] — consistency
//   proof between the trees of M and N leaves (default N: the newest signed head's).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "domain/cidr.h"
#include "domain/crypto.h"
#include "domain/decimal.h"
#include "domain/email.h"
#include "domain/events.h"
#include "domain/ids.h"
#include "domain/tree_head.h"
#include "gateway/api.h"
#include "gateway/min_position.h"
#include "gateway/request_wipe.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

// RFC 4180 field; cells that a spreadsheet would run as a formula are prefixed with '.
std::string CsvField(std::string v) {
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v.insert(v.begin(), '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Csv(const std::vector<json>& entries) {
  std::string out =
      "position,time,type,account_seq,subject,key_id,client_id,actor_type,actor_id,actor_email,actor_ip,actor_endpoint,"
      "changes\r\n";
  for (const auto& e : entries) {
    const json& a = e.contains("actor") ? e["actor"] : json::object();
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", e.value("position", 0ull),
                       CsvField(e.value("time", "")), CsvField(e.value("type", "")), e.value("account_seq", 0ull),
                       CsvField(e.value("subject", "")), CsvField(e.value("key_id", "")),
                       CsvField(e.value("client_id", "")), CsvField(a.value("type", "")), CsvField(a.value("id", "")),
                       CsvField(a.value("email", "")), CsvField(a.value("ip", "")), CsvField(a.value("endpoint", "")),
                       CsvField(e.contains("changes") ? e["changes"].dump() : ""));
  }
  return out;
}

// Reads the query into a filter; InvalidArgument names the bad parameter.
Status ParseFilter(const RequestContext& ctx, TimeMs now, TimeMs retention, AuditFilter* f, std::string* format) {
  std::string v;
  *format = "json";
  if (ctx.QueryParam("format", &v)) {
    if (v != "json" && v != "jsonl" && v != "csv") return Status::InvalidArgument("format must be json, jsonl or csv");
    *format = v;
  }
  const std::uint64_t max_limit = *format == "json" ? 500 : 10000;
  f->limit = 50;
  if (ctx.QueryParam("limit", &v)) {
    const std::optional<std::uint64_t> limit = ParseDecimal(v, max_limit);
    if (!limit || *limit == 0)
      return Status::InvalidArgument("limit must be an integer from 1 to " + std::to_string(max_limit));
    f->limit = *limit;
  }
  for (const char* name : {"since", "until"}) {
    if (!ctx.QueryParam(name, &v)) continue;
    auto t = ParseRfc3339(v);
    if (!t) return Status::InvalidArgument(std::string(name) + " must be an RFC 3339 time, e.g. 2026-03-01T00:00:00Z");
    (std::string_view(name) == "since" ? f->since : f->until) = *t;
  }
  // The view's window: nothing older than the retention period.
  TimeMs horizon = now - retention;
  if (!f->since || *f->since < horizon) f->since = horizon;
  if (ctx.QueryParam("type", &v)) {
    std::string_view rest = v;
    auto known = AllEventTypes();
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string type(rest.substr(0, comma));
      if (std::find(known.begin(), known.end(), type) == known.end())
        return Status::InvalidArgument("unknown event type '" + type.substr(0, 80) + "'");
      f->types.insert(type);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (ctx.QueryParam("key_id", &v)) {
    if (v.size() != 12) return Status::InvalidArgument("key_id must be a 12-character key id");
    f->key_id = v;
  }
  if (ctx.QueryParam("client_id", &v)) {
    if (!IsClientId(v))
      return Status::InvalidArgument("client_id must be an OAuth client id (clnt_ and 12 letters or digits)");
    f->client_id = v;
  }
  if (ctx.QueryParam("actor", &v)) {
    if (v.find('@') != std::string::npos) {
      auto email = NormalizeEmail(v);
      if (!email.ok()) return Status::InvalidArgument("actor: " + email.status().message());
      f->actor_id = *email;
    } else {
      if (v.empty() || v.size() > 128)
        return Status::InvalidArgument("actor must be an actor id (1..128 characters) or an email address");
      f->actor_id = v;
    }
  }
  if (ctx.QueryParam("ip", &v)) {
    if (!ParseIp(v)) return Status::InvalidArgument("ip must be an IPv4 or IPv6 address");
    f->ip = v;
  }
  if (ctx.QueryParam("order", &v)) {
    if (v != "newest" && v != "oldest") return Status::InvalidArgument("order must be newest or oldest");
    f->newest_first = v == "newest";
  }
  if (ctx.QueryParam("cursor", &v)) {
    f->after = AuditCursor::Decode(v);
    if (!f->after) return Status::InvalidArgument("cursor must be a next_cursor value from a previous page");
  }
  return Status::Ok();
}

HttpResponse AuditLog(ApiDeps& d, RequestContext& ctx) {
  auto auth = d.auth.Authenticate(ctx, kKeysAdminScope);
  WipeAuthorization(ctx.req);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  const Principal& p = std::get<Principal>(auth);
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kBlockingMinPositionWait))
    return std::move(*wait);
  AuditFilter filter;
  std::string format;
  if (Status s = ParseFilter(ctx, d.clock.Now(), d.audit_retention, &filter, &format); !s.ok())
    return ProblemFromStatus(ctx.req, s);
  auto page = d.queries.Audit(p.account_id, filter);
  if (!page.ok()) return ProblemFromStatus(ctx.req, page.status());
  json next = page->next ? json(page->next->Encode()) : json(nullptr);
  if (format == "json")
    return JsonResponse(ctx.req, http::status::ok, json{{"entries", page->entries}, {"next_cursor", next}}.dump());
  std::string body;
  if (format == "jsonl") {
    for (const auto& e : page->entries) body.append(e.dump()).push_back('\n');
  } else {
    body = Csv(page->entries);
  }
  HttpResponse res{http::status::ok, ctx.req.version()};
  res.set(http::field::content_type, format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
  res.set(http::field::content_disposition,
          std::string("attachment; filename=\"audit-log.") + (format == "csv" ? "csv" : "jsonl") + "\"");
  res.set(http::field::cache_control, "no-store");
  if (page->next) res.set("X-Next-Cursor", page->next->Encode());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The checkpoint signing key's public half: auditors pin it in `audit verify --public-key`.
HttpResponse PublicKey(ApiDeps& d, RequestContext& ctx) {
  if (d.checkpoint_public_key.empty())
    return Problem(ctx.req, http::status::not_found, "no-signing-key", "Checkpoint key not held here",
                   "this read replica does not hold the checkpoint signing key; ask the writer node, or copy its "
                   "signing key file ([audit] signing_key_file) to this replica");
  json body = {{"algorithm", "Ed25519"}, {"public_key", d.checkpoint_public_key}};
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

std::string Hex(const std::string& raw) {
  return ToHex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

json HexList(const std::vector<std::string>& hashes) {
  json out = json::array();
  for (const std::string& h : hashes) out.push_back(Hex(h));
  return out;
}

// The newest signed tree head of `partition`, or NotFound.
Result<SignedTreeHead> LatestHead(ApiDeps& d, std::uint32_t partition) {
  auto bytes = d.queries.LatestTreeHeadEvent(partition);
  if (!bytes.ok()) return bytes.status();
  auto e = DecodeEvent(*bytes);
  if (!e.ok()) return e.status();
  auto head = TreeHeadOf(*e);
  if (!head)
    return Status::Corruption("the stored tree head of partition " + std::to_string(partition) + " is damaged");
  return *head;
}

// An optional decimal query parameter within [0, max]; InvalidArgument names it.
Status QueryNumber(const RequestContext& ctx, const char* name, std::uint64_t max, std::optional<std::uint64_t>* out) {
  std::string v;
  if (!ctx.QueryParam(name, &v)) return Status::Ok();
  *out = ParseDecimal(v, max);
  if (!*out) return Status::InvalidArgument(std::string(name) + " must be an integer from 0 to " + std::to_string(max));
  return Status::Ok();
}

// The size a proof is asked against: `asked`, or the partition's newest signed
// head (then also returned in *signed_head). It must not exceed what is applied.
Result<std::uint64_t> ProofSize(ApiDeps& d, std::uint32_t partition, std::optional<std::uint64_t> asked,
                                const char* name, std::optional<SignedTreeHead>* signed_head) {
  if (!asked) {
    auto head = LatestHead(d, partition);
    if (head.status().code() == Status::Code::kNotFound)
      return Status::NotFound("partition " + std::to_string(partition) +
                              " has no signed tree head yet (the next checkpoint signs one); pass " + name);
    if (!head.ok()) return head.status();
    *signed_head = *head;
    return head->tree_size;
  }
  const std::uint64_t applied = OffsetOf(d.projector.applied().at(partition));
  if (*asked > applied)
    return Status::NotFound(std::string(name) + " " + std::to_string(*asked) + " is beyond the " +
                            std::to_string(applied) + " events of partition " + std::to_string(partition) +
                            " this node has applied");
  return *asked;
}

HttpResponse TreeHead(ApiDeps& d, RequestContext& ctx) {
  auto auth = d.auth.Authenticate(ctx, kKeysAdminScope);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  json heads = json::array();
  for (std::uint32_t p = 0; p < d.projector.partitions(); ++p) {
    auto head = LatestHead(d, p);
    if (head.status().code() == Status::Code::kNotFound) continue;
    if (!head.ok()) return ProblemFromStatus(ctx.req, head.status());
    heads.push_back(TreeHeadToJson(*head));
  }
  return JsonResponse(ctx.req, http::status::ok, json{{"heads", heads}}.dump());
}

HttpResponse InclusionProof(ApiDeps& d, RequestContext& ctx) {
  auto auth = d.auth.Authenticate(ctx, kKeysAdminScope);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  std::optional<std::uint64_t> position, asked;
  if (Status s = QueryNumber(ctx, "position", MakePosition(kMaxPartitions - 1, (Position{1} << 48) - 1), &position);
      !s.ok() || !position)
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("position (an event's ledger position, the `id:` of "
                                                              "GET /v1/events) is required and must be an integer"));
  if (Status s = QueryNumber(ctx, "tree_size", INT64_MAX, &asked); !s.ok()) return ProblemFromStatus(ctx.req, s);
  const std::uint32_t partition = PartitionOf(*position);
  if (partition >= d.projector.partitions() || OffsetOf(*position) == 0)
    return ProblemFromStatus(
        ctx.req, Status::InvalidArgument("position " + std::to_string(*position) + " names no event of this ledger"));
  std::optional<SignedTreeHead> head;
  auto size = ProofSize(d, partition, asked, "tree_size", &head);
  if (!size.ok()) return ProblemFromStatus(ctx.req, size.status());
  const std::uint64_t index = OffsetOf(*position) - 1;
  if (index >= *size)
    return ProblemFromStatus(
        ctx.req, Status::NotFound("the tree of " + std::to_string(*size) + " leaves does not hold position " +
                                  std::to_string(*position) + (head ? " yet (the next checkpoint signs it)" : "")));
  auto proof = d.queries.InclusionProof(partition, index, *size);
  if (!proof.ok()) return ProblemFromStatus(ctx.req, proof.status());
  auto root = d.queries.TreeRoot(partition, *size);
  if (!root.ok()) return ProblemFromStatus(ctx.req, root.status());
  json body = {{"partition", partition}, {"position", *position},   {"leaf_index", index},
               {"tree_size", *size},     {"root_hash", Hex(*root)}, {"proof", HexList(*proof)}};
  if (head) body["tree_head"] = TreeHeadToJson(*head);
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

HttpResponse ConsistencyProof(ApiDeps& d, RequestContext& ctx) {
  auto auth = d.auth.Authenticate(ctx, kKeysAdminScope);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  std::optional<std::uint64_t> partition, first, asked;
  for (Status s : {QueryNumber(ctx, "partition", d.projector.partitions() - 1, &partition),
                   QueryNumber(ctx, "first", INT64_MAX, &first), QueryNumber(ctx, "second", INT64_MAX, &asked)})
    if (!s.ok()) return ProblemFromStatus(ctx.req, s);
  if (!first)
    return ProblemFromStatus(ctx.req,
                             Status::InvalidArgument("first (the tree_size of the head you hold) is required"));
  const auto p = static_cast<std::uint32_t>(partition.value_or(0));
  std::optional<SignedTreeHead> head;
  auto second = ProofSize(d, p, asked, "second", &head);
  if (!second.ok()) return ProblemFromStatus(ctx.req, second.status());
  if (*first > *second)
    return ProblemFromStatus(ctx.req,
                             Status::InvalidArgument("first (" + std::to_string(*first) + ") must not exceed second (" +
                                                     std::to_string(*second) + ")"));
  auto proof = d.queries.ConsistencyProof(p, *first, *second);
  if (!proof.ok()) return ProblemFromStatus(ctx.req, proof.status());
  auto first_root = d.queries.TreeRoot(p, *first);
  auto second_root = d.queries.TreeRoot(p, *second);
  if (!first_root.ok()) return ProblemFromStatus(ctx.req, first_root.status());
  if (!second_root.ok()) return ProblemFromStatus(ctx.req, second_root.status());
  json body = {{"partition", p},
               {"first", *first},
               {"second", *second},
               {"first_root", Hex(*first_root)},
               {"second_root", Hex(*second_root)},
               {"proof", HexList(*proof)}};
  if (head) body["tree_head"] = TreeHeadToJson(*head);
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

}  // namespace

void AddAuditApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::get, "/v1/audit/tree-head", HandlerKind::kBlocking,
        [&d](RequestContext& c) { return TreeHead(d, c); });
  r.Add(http::verb::get, "/v1/audit/proof", HandlerKind::kBlocking,
        [&d](RequestContext& c) { return InclusionProof(d, c); });
  r.Add(http::verb::get, "/v1/audit/consistency", HandlerKind::kBlocking,
        [&d](RequestContext& c) { return ConsistencyProof(d, c); });
  r.Add(http::verb::get, "/v1/audit/public-key", HandlerKind::kInline,
        [&d](RequestContext& c) { return PublicKey(d, c); });
  r.Add(http::verb::get, "/v1/audit-log", HandlerKind::kBlocking, [&d](RequestContext& c) { return AuditLog(d, c); });
}

}  // namespace authledger
