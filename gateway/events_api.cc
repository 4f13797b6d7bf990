// GET /v1/events — the caller's account's events as Server-Sent Events, for
// consumers without access to the Kafka topic (docs/api.md "Event stream").
//
//   Authorization   Bearer key holding events:read (or admin:*)
//   Last-Event-ID   resume after this event id (what EventSource sends on reconnect)
//   after           the same, as a query parameter; Last-Event-ID wins if both are given
//
// A position is what an event's `id:` carries, Cursor::ToString(): "42" on a
// one-partition ledger, "0:42,1:7,..." otherwise (partitions left out: 0).
// Absent or "0": from the beginning. Malformed, or beyond the ledger's end: 400.
//
// The response (text/event-stream) starts with `retry: 2000`, then one block per
// event of the caller's account, in ledger order:
//
//   id: <the position after this event>
//   event: <CloudEvents type>
//   data: <the envelope exactly as stored: one line of canonical JSON>
//
// Other accounts' events and checkpoints are never sent, but the stream's
// position moves past them: after `keepalive` without a block, the stream
// sends `: keep-alive` — with an `id:` line if the position moved since the last
// one sent, so a reconnect does not read those events again (a block without
// `data:` updates EventSource's lastEventId and dispatches nothing).
//
// An account holds at most ApiDeps::event_streams' per-account cap of streams
// on a node (server.max_event_streams_per_account); beyond it: 429
// too-many-streams with Retry-After, so one tenant cannot hold all the node's
// streams (server.max_event_streams).
//
// Each stream runs on its own thread (HttpServer runs streaming handlers off the
// I/O threads). What the projections have applied is read from the account's
// audit view (Queries::AccountEventsAfter: one row per event of this account,
// kIndexPage positions per pass), so a stream from an old cursor costs what the
// account has, not what the multi-tenant ledger has. From the projections'
// position on, it follows the node's EventLog: Read batches of at most kBatch
// events, one chunk per batch, and WaitForAppend in slices of kPoll so that a
// closed stream (client gone, server stopping) is noticed within kPoll. The
// key is verified again every kRecheck: a stream ends soon after its key is
// revoked, expires or loses events:read.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "domain/decimal.h"
#include "domain/events.h"
#include "gateway/api.h"
#include "gateway/responses.h"
#include "ledger/partitioner.h"

namespace authledger {

namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kBatch = 256;                   // events per Read, and at most per chunk
constexpr std::size_t kIndexPage = 65536;             // positions per pass over the account's audit view
constexpr std::chrono::milliseconds kPoll{200};       // longest wait before re-checking the stream
constexpr std::size_t kMaxCursorText = 1024;          // 32 partitions of "pp:ooooooooooooooo," fit
constexpr std::chrono::seconds kRecheck{1};           // how often a stream verifies its key again
constexpr std::chrono::seconds kCatchUpForCursor{2};  // replica: wait for a cursor beyond its heads

// A decimal number below 2^48 (an offset of a Position, or a partition).
bool ParseOffset(std::string_view s, std::uint64_t* out) {
  const std::optional<std::uint64_t> v = ParseDecimal(s, (std::uint64_t{1} << kOffsetBits) - 1);
  if (v) *out = *v;
  return v.has_value();
}

// Reads a stream position (see the top of this file) of a ledger with
// `partitions` partitions from `text`, sent as `what`; InvalidArgument with a
// useful detail when it is malformed. The detail never repeats the raw text.
Status ParseStreamPosition(std::string_view text, std::string_view what, std::uint32_t partitions, Cursor* out) {
  const std::string form = partitions == 1 ? "an event id from this stream, e.g. 42 (0 = from the beginning)"
                                           : "an event id from this stream, e.g. 0:42,1:7 (0 = from the beginning)";
  if (text.size() > kMaxCursorText)
    return Status::InvalidArgument(std::string(what) + " is too long; it must be " + form);
  Cursor c(partitions);
  std::uint64_t plain = 0;
  if (ParseOffset(text, &plain)) {
    if (plain != 0 && partitions != 1)
      return Status::InvalidArgument("this ledger has " + std::to_string(partitions) +
                                     " partitions: " + std::string(what) + " must be " + form);
    c.Advance(MakePosition(0, plain));
  } else {
    std::vector<bool> seen(partitions, false);
    std::string_view rest = text;
    for (;;) {
      std::size_t comma = rest.find(',');
      std::string_view pair = rest.substr(0, comma);
      std::size_t colon = pair.find(':');
      std::uint64_t p = 0, o = 0;
      if (colon == std::string_view::npos || !ParseOffset(pair.substr(0, colon), &p) ||
          !ParseOffset(pair.substr(colon + 1), &o))
        return Status::InvalidArgument(std::string(what) + " must be " + form);
      if (p >= partitions)
        return Status::InvalidArgument(std::string(what) + " names partition " + std::to_string(p) +
                                       ", but this ledger has " + std::to_string(partitions));
      if (seen[p])
        return Status::InvalidArgument(std::string(what) + " names partition " + std::to_string(p) + " twice");
      seen[p] = true;
      c.Advance(MakePosition(static_cast<std::uint32_t>(p), o));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  *out = std::move(c);
  return Status::Ok();
}

// The CloudEvents type of a stored event if the caller's account may see it:
// its own events (partitionkey == account), never a checkpoint. `needle` is
// `"partitionkey":"<account>"`: the bytes are canonical JSON, so a plain search
// rejects other accounts' events without parsing them.
std::optional<std::string> VisibleType(std::string_view bytes, std::string_view needle, const std::string& account) {
  if (bytes.find(needle) == std::string_view::npos) return std::nullopt;
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto pk = j.find("partitionkey");
  auto type = j.find("type");
  if (pk == j.end() || type == j.end() || !pk->is_string() || !type->is_string() ||
      pk->get_ref<const std::string&>() != account)
    return std::nullopt;
  std::string t = type->get<std::string>();
  if (t == LedgerCheckpoint::kType || t.empty() || t.size() > 256 || t.find_first_of("\r\n") != std::string::npos)
    return std::nullopt;
  return t;
}

// The credential of an authenticated request (Authenticate checked the "Bearer " form).
std::string_view BearerToken(const HttpRequest& req) {
  auto h = req[http::field::authorization];
  std::string_view v(h.data(), h.size());
  return v.size() > 7 ? v.substr(7) : std::string_view();
}

std::optional<HttpResponse> StreamEvents(ApiDeps& d, RequestContext& ctx, ResponseStream& out) {
  auto auth = d.auth.Authenticate(ctx, kEventsReadScope);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  const std::string account = std::get<Principal>(auth).account_id;
  ConcurrencyQuota::Slot slot = d.event_streams.Acquire(account);
  if (!slot) {
    auto res = Problem(ctx.req, http::status::too_many_requests, "too-many-streams", "Too many streams",
                       "this account already has " + std::to_string(d.event_streams.per_key()) +
                           " event streams open on this node; close one, or retry after the time in Retry-After");
    res.set(http::field::retry_after, "5");
    return res;
  }
  EventLog& log = d.events;
  const std::uint32_t partitions = log.Partitions();

  Cursor cursor(partitions);
  auto last_id = ctx.req["Last-Event-ID"];
  std::string after;
  std::string_view what = "Last-Event-ID";
  Status parsed = Status::Ok();
  if (!last_id.empty())
    parsed = ParseStreamPosition(std::string_view(last_id.data(), last_id.size()), what, partitions, &cursor);
  else if (ctx.QueryParam("after", &after)) {
    what = "after";
    parsed = ParseStreamPosition(after, what, partitions, &cursor);
  }
  if (!parsed.ok()) return ProblemFromStatus(ctx.req, parsed);
  // A client reconnecting to a node that lags the one it came from (a replica
  // behind a load balancer) may name a position this node has not heard of yet:
  // a replica gives it a moment (this runs on the stream's own thread) before refusing.
  Cursor heads = log.Heads();
  for (auto deadline = std::chrono::steady_clock::now() + kCatchUpForCursor;
       d.replica && !heads.CoversAll(cursor) && std::chrono::steady_clock::now() < deadline && !out.closed();)
    heads = log.WaitForAppend(heads, std::chrono::milliseconds(200));
  if (!heads.CoversAll(cursor))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(what) + " " + cursor.ToString() +
                                                              " is beyond the end of this ledger (" + heads.ToString() +
                                                              "); was it issued by another ledger?"));

  HttpResponse head{http::status::ok, ctx.req.version()};
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-store");
  head.set("X-Accel-Buffering", "no");  // nginx: pass every event on at once
  if (!out.Start(std::move(head)) || !out.Write("retry: 2000\n\n")) return std::nullopt;

  // The account's events all live in one partition; the others are skipped to
  // their heads rather than read.
  const std::uint32_t home = PartitionFor(account, partitions);
  const std::string needle = "\"partitionkey\":\"" + account + "\"";
  const auto keepalive = std::max(d.event_keepalive, std::chrono::milliseconds(1));
  std::string sent_id = cursor.ToString();  // what a reconnecting client would send back
  auto last_write = SteadyClock::now(), last_check = last_write;
  std::vector<StoredEvent> batch;
  // The account's audit view serves what the projections have applied beyond
  // the cursor; `refs` is the current pass's page of it, `next_ref` the next to send.
  bool from_index = d.projector.applied().offset(home) > cursor.offset(home);
  std::vector<Queries::EventRef> refs;
  std::size_t next_ref = 0;
  Cursor indexed(partitions);  // the projections' cursor as of the pass
  while (!out.closed()) {
    if (SteadyClock::now() - last_check >= kRecheck) {
      VerifyResult r;
      d.verifier.Verify(BearerToken(ctx.req), kEventsReadScope, ctx.remote_ip, &r);
      if (!r.valid()) {  // the client reconnects and is told why (401/403)
        spdlog::info("GET /v1/events: key {} no longer qualifies ({}); stream ended", r.key_id, r.detail);
        return std::nullopt;
      }
      last_check = SteadyClock::now();
    }
    if (partitions > 1) {
      const Cursor heads = log.Heads();
      for (std::uint32_t p = 0; p < partitions; ++p)
        if (p != home && heads.offset(p) > cursor.offset(p)) cursor.Advance(heads.at(p));
    }
    if (from_index && next_ref == refs.size()) {  // the next pass over the view, or its end
      const bool was_short = !refs.empty() && refs.size() < kIndexPage;
      Status s = was_short
                     ? Status::Ok()
                     : d.queries.AccountEventsAfter(account, cursor.at(home), kIndexPage, partitions, &refs, &indexed);
      if (!s.ok()) spdlog::warn("GET /v1/events: reading account {}'s audit view failed: {}", account, s.ToString());
      next_ref = 0;
      if (!s.ok() || was_short || refs.empty()) {  // every event up to `indexed` was sent: the ledger goes on
        from_index = false;
        refs.clear();
        if (s.ok() && indexed.offset(home) > cursor.offset(home)) cursor.Advance(indexed.at(home));
      }
    }
    if (from_index) {
      batch.clear();
      for (; next_ref < refs.size() && batch.size() < kBatch; ++next_ref) {
        StoredEvent e{refs[next_ref].position, {}};
        if (Status s = d.queries.AccountEvent(account, refs[next_ref], &e.bytes); !s.ok()) {
          spdlog::warn("GET /v1/events: reading account {}'s event at {} failed: {}", account,
                       PositionToString(e.position), s.ToString());
          return std::nullopt;  // the client reconnects (retry: 2000) from the last id it got
        }
        batch.push_back(std::move(e));
      }
    } else if (Status s = log.Read(cursor, kBatch, &batch); !s.ok()) {
      // The client reconnects (retry: 2000) from the last id it got.
      spdlog::warn("GET /v1/events: reading the ledger after {} failed: {}", cursor.ToString(), s.ToString());
      return std::nullopt;
    }
    std::string chunk;
    for (const StoredEvent& e : batch) {
      cursor.Advance(e.position);
      auto type = VisibleType(e.bytes, needle, account);
      if (!type) continue;
      if (e.bytes.find_first_of("\r\n") != std::string::npos) {  // canonical JSON never has one
        spdlog::error("GET /v1/events: the event at {} holds a line break; ending the stream",
                      PositionToString(e.position));
        return std::nullopt;
      }
      sent_id = cursor.ToString();
      chunk.append("id: ")
          .append(sent_id)
          .append("\nevent: ")
          .append(*type)
          .append("\ndata: ")
          .append(e.bytes)
          .append("\n\n");
    }
    if (chunk.empty() && SteadyClock::now() - last_write >= keepalive) {
      chunk = ": keep-alive\n";
      if (std::string now_id = cursor.ToString(); now_id != sent_id) {
        sent_id = std::move(now_id);
        chunk.append("id: ").append(sent_id).append("\n");
      }
      chunk.append("\n");
    }
    if (!chunk.empty()) {
      if (!out.Write(std::move(chunk))) return std::nullopt;
      last_write = SteadyClock::now();
    }
    if (!from_index && batch.size() < kBatch) {  // caught up: wait for an append, the next keep-alive or kPoll
      auto until_keepalive =
          std::chrono::duration_cast<std::chrono::milliseconds>(last_write + keepalive - SteadyClock::now());
      log.WaitForAppend(cursor, std::clamp(until_keepalive, std::chrono::milliseconds(1), kPoll));
    }
  }
  return std::nullopt;
}

}  // namespace

void AddEventsApi(Router& r, ApiDeps& d) {
  r.AddStream(http::verb::get, "/v1/events",
              [&d](RequestContext& c, ResponseStream& out) { return StreamEvents(d, c, out); });
}

}  // namespace authledger
