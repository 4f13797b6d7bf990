// `authledger replay`: rebuilds every read model as it stood at a past moment
// (a ledger position, or a time) into a separate directory, with the real
// Projector, and answers queries from it. docs/replay.md describes it.
//
// A replay directory OUTDIR holds:
//   OUTDIR/projections/  a ProjectionStore (the same column families as the live one)
//   OUTDIR/REPLAY        JSON describing the replay point; written last, so a
//                        directory without it is not (or not yet) a replay
// The live data directory is only read: the ledger is opened (it admits one
// process, so the server must be stopped) and nothing of it is written.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "domain/account_state.h"
#include "ledger/event_log.h"

namespace authledger {

// What --until names: a ledger position (all digits, >= 1) or an RFC 3339 time.
struct ReplayUntil {
  std::optional<Position> position;
  std::optional<TimeMs> time;
  std::string text;  // as given
};
// InvalidArgument with a sentence saying what is accepted.
Result<ReplayUntil> ParseReplayUntil(std::string_view text);

// The contents of OUTDIR/REPLAY.
struct ReplayInfo {
  std::string until;              // --until as given
  Position position = 0;          // last applied ledger position (one-partition ledgers; else 0)
  std::string cursor;             // what was applied, per partition (Cursor::ToString)
  TimeMs last_event_time = 0;     // envelope time of the event at `position`
  TimeMs as_of = 0;               // the time statuses are computed at: TIME, or last_event_time
  std::uint64_t events = 0;       // events applied
  std::uint64_t ledger_head = 0;  // events in the ledger when replayed
  // Time mode: the first event not applied because its time is after TIME (0: none).
  Position stopped_before = 0;
  TimeMs stopped_before_time = 0;
  std::string source;      // the data directory replayed
  TimeMs replayed_at = 0;  // wall clock of the replay
};

// Replays the configured ledger up to `until` into `out_dir` (a POSITION only
// on a one-partition ledger; TIME applies, in every partition, the events up to
// the last one whose time is <= TIME).
// Refuses a non-empty `out_dir` unless `force` (which then replaces only
// OUTDIR/projections and OUTDIR/REPLAY), and refuses any `out_dir` that is,
// contains or lies inside the data directory. `progress` gets (events applied,
// events to apply) after each batch.
Result<ReplayInfo> Replay(const Config& config, const ReplayUntil& until, const std::string& out_dir, bool force,
                          const std::function<void(std::uint64_t, std::uint64_t)>& progress);

// Reads OUTDIR/REPLAY; FailedPrecondition if `out_dir` is not a replay directory.
Result<ReplayInfo> LoadReplayInfo(const std::string& out_dir);

// One key of an account as it stood at the replay point.
struct ReplayedKey {
  KeyState key;
  KeyStatus status;  // key.StatusAt(info.as_of)
};
// The keys of `account_id` in the replay in `out_dir` (ordered like GET /v1/keys).
// `valid_only`: only keys active or rotating at the replay time. NotFound if the
// account had no events up to the replay point.
Result<std::vector<ReplayedKey>> ReplayedKeys(const std::string& out_dir, const std::string& account_id,
                                              bool valid_only, ReplayInfo* info);

// One JSON object per line (format "jsonl") or an aligned table ("table").
void PrintReplayedKeys(std::ostream& out, const ReplayInfo& info, const std::string& account_id,
                       const std::vector<ReplayedKey>& keys, bool valid_only, std::string_view format);

// The OAuth clients of `account_id` in the replay (sorted by id); `active_only`:
// without the ones deleted by then. NotFound as for ReplayedKeys.
Result<std::vector<ClientState>> ReplayedClients(const std::string& out_dir, const std::string& account_id,
                                                 bool active_only, ReplayInfo* info);
void PrintReplayedClients(std::ostream& out, const ReplayInfo& info, const std::string& account_id,
                          const std::vector<ClientState>& clients, bool active_only, std::string_view format);

}  // namespace authledger
