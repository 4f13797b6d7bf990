#include "app/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/ledger.h"
#include "domain/decimal.h"
#include "gateway/resource_json.h"
#include "ledger/batch_reader.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/store.h"

namespace authledger {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kReplayFile = "REPLAY";
constexpr const char* kReplayFormat = "authledger-replay/1";
constexpr std::size_t kReadBatch = Projector::kBatchEvents;

std::string StoreDir(const std::string& out_dir) { return out_dir + "/projections"; }
std::string InfoPath(const std::string& out_dir) { return out_dir + "/" + kReplayFile; }

// True if `inner` is `outer` or lies inside it (both made absolute and normal).
bool Within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

fs::path Normal(const std::string& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

// Checks OUTDIR and empties what replay owns in it (with --force).
Status PrepareOutDir(const Config& config, const std::string& out_dir, bool force) {
  if (out_dir.empty()) return Status::InvalidArgument("--out DIR is required: the directory to write the replay to");
  fs::path out = Normal(out_dir), data = Normal(config.data_dir);
  if (Within(out, data) || Within(data, out))
    return Status::InvalidArgument("--out " + out_dir + " is, contains or lies inside the data directory " +
                                   config.data_dir + "; a replay goes to a separate directory so the live read " +
                                   "models are never touched");
  std::error_code ec;
  if (!fs::exists(out_dir, ec)) {
    if (!fs::create_directories(out_dir, ec) && ec)
      return Status::IOError("cannot create " + out_dir + ": " + ec.message());
    return Status::Ok();
  }
  if (!fs::is_directory(out_dir, ec))
    return Status::InvalidArgument("--out " + out_dir + " exists and is not a directory");
  if (fs::is_empty(out_dir, ec)) return Status::Ok();
  if (!force)
    return Status::AlreadyExists("--out " + out_dir + " is not empty; choose a new directory, or pass --force to " +
                                 "replace the replay in it");
  if (fs::exists(out_dir + "/ledger", ec) || fs::exists(out_dir + "/pepper", ec))
    return Status::InvalidArgument("--out " + out_dir + " looks like a data directory (it has a ledger or a pepper); " +
                                   "--force only replaces a previous replay");
  // The REPLAY file goes first: an interrupted replay must not look complete.
  if (fs::remove(InfoPath(out_dir), ec); ec)
    return Status::IOError("cannot remove " + InfoPath(out_dir) + ": " + ec.message());
  return ProjectionStore::Destroy(StoreDir(out_dir));
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  std::string_view data = content;
  Status s;
  while (!data.empty() && s.ok()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
    else data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (s.ok() && ::fsync(fd) != 0) s = Status::IOError("cannot fsync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = Status::IOError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

json InfoToJson(const ReplayInfo& i) {
  auto t = [](TimeMs v) { return v ? json(FormatRfc3339(v)) : json(nullptr); };
  return {{"format", kReplayFormat},
          {"until", i.until},
          {"position", i.position},
          {"cursor", i.cursor},
          {"last_event_time", t(i.last_event_time)},
          {"as_of", t(i.as_of)},
          {"events", i.events},
          {"ledger_head", i.ledger_head},
          {"stopped_before", i.stopped_before ? json(i.stopped_before) : json(nullptr)},
          {"stopped_before_time", t(i.stopped_before_time)},
          {"source", i.source},
          {"replayed_at", t(i.replayed_at)}};
}

Result<ReplayInfo> InfoFromJson(const json& j, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(path + " is not a valid replay description (" + why + "); replay again with --force");
  };
  if (!j.is_object() || j.value("format", "") != kReplayFormat) return bad("unknown format");
  auto time = [&](const char* name, TimeMs* out) -> bool {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    auto t = ParseRfc3339(it->get<std::string>());
    if (!t) return false;
    *out = *t;
    return true;
  };
  ReplayInfo i;
  try {
    i.until = j.at("until").get<std::string>();
    i.position = j.at("position").get<Position>();
    i.cursor = j.value("cursor", std::to_string(i.position));
    i.events = j.at("events").get<std::uint64_t>();
    i.ledger_head = j.at("ledger_head").get<Position>();
    if (!j.at("stopped_before").is_null()) i.stopped_before = j.at("stopped_before").get<Position>();
    i.source = j.at("source").get<std::string>();
  } catch (const json::exception&) {
    return bad("missing or mistyped fields");
  }
  if (!time("last_event_time", &i.last_event_time) || !time("as_of", &i.as_of) ||
      !time("stopped_before_time", &i.stopped_before_time) || !time("replayed_at", &i.replayed_at))
    return bad("a time is not RFC 3339");
  return i;
}

std::string Describe(const ReplayInfo& i) { return "position " + i.cursor + ", as of " + FormatRfc3339(i.as_of); }

}  // namespace

Result<ReplayUntil> ParseReplayUntil(std::string_view text) {
  ReplayUntil u;
  u.text = std::string(text);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--until '" + u.text + "' " + why +
                                   ": give a ledger position (1, 2, ...: the `position` of a write response) or an " +
                                   "RFC 3339 time such as 2026-03-01T00:00:00Z");
  };
  if (text.empty()) return bad("is empty");
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const std::optional<Position> p = ParseDecimal(text);
    if (!p) return bad("is too large a position");
    if (*p == 0) return bad("is position 0, before the first event");
    u.position = *p;
    return u;
  }
  auto t = ParseRfc3339(text);
  if (!t) return bad("is neither a position nor a valid time");
  u.time = *t;
  return u;
}

Result<ReplayInfo> Replay(const Config& config, const ReplayUntil& until, const std::string& out_dir, bool force,
                          const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  auto ledger = OpenLedger(config, LedgerAccess::kReadOnly);
  if (!ledger.ok()) return ledger.status();
  EventLog& log = *ledger->log;
  const std::uint32_t partitions = log.Partitions();
  const Cursor heads = log.Heads();
  if (heads.Total() == 0) return Status::FailedPrecondition(ledger->description + " is empty: nothing to replay");
  if (until.position && partitions > 1)
    return Status::InvalidArgument("--until POSITION needs a one-partition ledger; this one has " +
                                   std::to_string(partitions) + " partitions: use --until TIME");
  if (until.position && !heads.Covers(*until.position))
    return Status::InvalidArgument("--until " + until.text + " is beyond the end of the ledger, which is at position " +
                                   heads.ToString());

  // How far to replay, per partition: up to the position, or, for a time, up to
  // the last event of each partition whose time is <= TIME (read ahead of the
  // projector only to find that; the projector reads and applies the events itself).
  Cursor target = heads;
  ReplayInfo info;
  if (until.position) {
    target = Cursor(1);
    target.Advance(*until.position);
  } else {
    Cursor scan(partitions), limit(partitions);
    std::vector<bool> done(partitions, false);
    std::vector<StoredEvent> events;
    TimeMs first_time = 0;
    for (int idle = 0; !scan.CoversAll(heads);) {
      if (Status s = log.Read(scan, kReadBatch, &events); !s.ok()) return s;
      if (events.empty()) {  // a remote log may answer empty while it fetches; the same bound as BatchReader's
        if (++idle > BatchReader::kMaxIdleReads)
          return Status::Unavailable("the ledger stopped returning events at " + scan.ToString());
        continue;
      }
      idle = 0;
      for (const StoredEvent& e : events) {
        const std::uint32_t p = PartitionOf(e.position);
        if (done[p]) continue;  // its scan cursor already jumped to the head
        scan.Advance(e.position);
        if (!heads.Covers(e.position)) continue;
        auto ev = DecodeEvent(e.bytes);
        if (!ev.ok())
          return Status::Corruption("position " + PositionToString(e.position) + ": " + ev.status().message());
        if (first_time == 0 || ev->time < first_time) first_time = ev->time;
        if (ev->time > *until.time) {
          done[p] = true;
          scan.Advance(heads.at(p));  // nothing more wanted from this partition
          if (info.stopped_before == 0 || ev->time < info.stopped_before_time) {
            info.stopped_before = e.position;
            info.stopped_before_time = ev->time;
          }
          continue;
        }
        limit.Advance(e.position);
        info.last_event_time = std::max(info.last_event_time, ev->time);
      }
    }
    if (first_time > *until.time)
      return Status::InvalidArgument("--until " + until.text + " is before the ledger's first event (" +
                                     FormatRfc3339(first_time) + "): nothing had happened yet");
    target = limit;
  }

  if (Status s = PrepareOutDir(config, out_dir, force); !s.ok()) return s;
  auto store = ProjectionStore::Open(StoreDir(out_dir));
  if (!store.ok()) return store.status();
  Projector projector(log, **store);
  if (Status s = projector.Init(); !s.ok()) return s;
  const std::uint64_t total = target.Total();
  if (Status s = projector.CatchUpTo(target,
                                     [&](const Cursor& applied) {
                                       if (progress) progress(applied.Total(), total);
                                     });
      !s.ok())
    return s;

  const Cursor applied = projector.applied();
  info.until = until.text;
  info.ledger_head = heads.Total();
  info.source = config.kafka_brokers.empty() ? Normal(config.data_dir).string() : ledger->description;
  info.position = partitions == 1 ? applied.at(0) : 0;
  info.cursor = applied.ToString();
  info.events = applied.Total();
  if (until.position) {
    // The time of the last applied event: what statuses are computed at.
    std::vector<StoredEvent> last;
    Cursor before(1);
    before.Advance(*until.position - 1);
    if (Status s = log.Read(before, 1, &last); !s.ok()) return s;
    if (last.empty()) return Status::Corruption("the ledger returned no event at position " + until.text);
    auto ev = DecodeEvent(last[0].bytes);
    if (!ev.ok()) return Status::Corruption("position " + until.text + ": " + ev.status().message());
    info.last_event_time = ev->time;
  }
  info.as_of = until.time ? *until.time : info.last_event_time;
  info.replayed_at = SystemClock::Instance().Now();
  store->reset();  // close the store before declaring the replay complete
  if (Status s = WriteFileAtomically(InfoPath(out_dir), InfoToJson(info).dump(2) + "\n"); !s.ok()) return s;
  return info;
}

Result<ReplayInfo> LoadReplayInfo(const std::string& out_dir) {
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec))
    return Status::FailedPrecondition("--out " + out_dir + " does not exist; create a replay first with " +
                                      "`authledger replay --data DIR --until TIME|POSITION --out " + out_dir + "`");
  std::ifstream in(InfoPath(out_dir));
  if (!in || !fs::is_directory(StoreDir(out_dir), ec))
    return Status::FailedPrecondition("--out " + out_dir + " is not a replay directory (it has no REPLAY file and " +
                                      "projections/, or the replay that wrote it did not finish); create one with " +
                                      "`authledger replay --until TIME|POSITION --out DIR`");
  std::stringstream buf;
  buf << in.rdbuf();
  return InfoFromJson(json::parse(buf.str(), nullptr, false), InfoPath(out_dir));
}

namespace {

// The replay in `out_dir`, opened for queries about `account_id` (which must exist there).
Result<std::unique_ptr<ProjectionStore>> OpenReplayFor(const std::string& out_dir, const std::string& account_id,
                                                       const char* query, ReplayInfo* info) {
  auto i = LoadReplayInfo(out_dir);
  if (!i.ok()) return i.status();
  *info = *i;
  if (account_id.empty()) return Status::InvalidArgument(std::string(query) + " needs an account id");
  auto store = ProjectionStore::Open(StoreDir(out_dir));
  if (!store.ok()) return store.status();
  auto account = Queries(**store).Account(account_id);
  if (!account.ok()) {
    if (account.status().code() != Status::Code::kNotFound) return account.status();
    return Status::NotFound("account " + account_id + " does not exist in the replay at " + Describe(*i) +
                            ": the id is unknown, or the account was created later");
  }
  return store;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

// Rows of cells, the first a header, as columns aligned with two spaces between.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

}  // namespace

Result<std::vector<ReplayedKey>> ReplayedKeys(const std::string& out_dir, const std::string& account_id,
                                              bool valid_only, ReplayInfo* info) {
  auto store = OpenReplayFor(out_dir, account_id, "--keys", info);
  if (!store.ok()) return store.status();
  auto keys = Queries(**store).ListKeys(account_id);
  if (!keys.ok()) return keys.status();
  std::vector<ReplayedKey> out;
  for (KeyState& k : *keys) {
    KeyStatus st = k.StatusAt(info->as_of);
    if (valid_only && st != KeyStatus::kActive && st != KeyStatus::kRotating) continue;
    out.push_back(ReplayedKey{std::move(k), st});
  }
  return out;
}

void PrintReplayedKeys(std::ostream& out, const ReplayInfo& info, const std::string& account_id,
                       const std::vector<ReplayedKey>& keys, bool valid_only, std::string_view format) {
  if (format == "jsonl") {
    for (const ReplayedKey& r : keys) {
      json j = KeyJson(r.key, r.status, JsonForm::kReplay);
      j["account_id"] = account_id;
      j["as_of"] = FormatRfc3339(info.as_of);
      j["position"] = info.position;
      out << j.dump() << "\n";
    }
    out.flush();
    return;
  }
  out << "# " << (valid_only ? "valid keys" : "keys") << " of account " << account_id << " as of "
      << FormatRfc3339(info.as_of) << " (ledger position " << info.cursor << ")\n";
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "STATUS", "ENV", "SCOPES", "CREATED", "EXPIRES/GRACE"}};
  for (const ReplayedKey& r : keys) {
    const KeyState& k = r.key;
    std::string ends;
    if (k.expires_at) ends = "expires " + FormatRfc3339(*k.expires_at);
    if (k.grace_until) ends += (ends.empty() ? "" : "; ") + std::string("grace until ") + FormatRfc3339(*k.grace_until);
    if (k.revoked_at) ends += (ends.empty() ? "" : "; ") + std::string("revoked ") + FormatRfc3339(*k.revoked_at);
    rows.push_back({k.id, k.name, std::string(KeyStatusName(r.status)), k.environment, Joined(k.scopes),
                    FormatRfc3339(k.created_at), ends.empty() ? "-" : ends});
  }
  PrintTable(out, rows);
  if (keys.empty()) out << (valid_only ? "(no valid keys at that time)\n" : "(no keys at that time)\n");
  out.flush();
}

Result<std::vector<ClientState>> ReplayedClients(const std::string& out_dir, const std::string& account_id,
                                                 bool active_only, ReplayInfo* info) {
  auto store = OpenReplayFor(out_dir, account_id, "--clients", info);
  if (!store.ok()) return store.status();
  auto clients = Queries(**store).ListClients(account_id);
  if (!clients.ok()) return clients.status();
  if (active_only) std::erase_if(*clients, [](const ClientState& c) { return c.deleted(); });
  return clients;
}

void PrintReplayedClients(std::ostream& out, const ReplayInfo& info, const std::string& account_id,
                          const std::vector<ClientState>& clients, bool active_only, std::string_view format) {
  if (format == "jsonl") {
    for (const ClientState& c : clients) {
      json j = ClientJson(c, JsonForm::kReplay);
      j["account_id"] = account_id;
      j["as_of"] = FormatRfc3339(info.as_of);
      j["position"] = info.position;
      out << j.dump() << "\n";
    }
    out.flush();
    return;
  }
  out << "# " << (active_only ? "active OAuth clients" : "OAuth clients") << " of account " << account_id << " as of "
      << FormatRfc3339(info.as_of) << " (ledger position " << info.cursor << ")\n";
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "STATUS", "SCOPES", "GRANTS", "CREATED", "DELETED"}};
  for (const ClientState& c : clients)
    rows.push_back({c.id, c.name, c.deleted() ? "deleted" : "active", Joined(c.scopes), Joined(c.grant_types),
                    FormatRfc3339(c.created_at), c.deleted_at ? FormatRfc3339(*c.deleted_at) : "-"});
  PrintTable(out, rows);
  if (clients.empty()) out << (active_only ? "(no active clients at that time)\n" : "(no clients at that time)\n");
  out.flush();
}

}  // namespace authledger
