#include "ledger/scan.h"

namespace authledger {

Status ScanLedger(EventLog& log, const std::function<Status(const StoredEvent&)>& fn, std::size_t batch) {
  const Cursor heads = log.Heads();
  Cursor at(log.Partitions());
  std::vector<StoredEvent> events;
  int idle_reads = 0;
  while (!at.CoversAll(heads)) {
    if (Status s = log.Read(at, batch, &events); !s.ok()) return s;
    if (events.empty()) {
      // A remote log may answer empty while fetching; the embedded one never does.
      if (++idle_reads > 30)
        return Status::Unavailable("the ledger stopped returning events at " + at.ToString() + " before its end at " +
                                   heads.ToString());
      continue;
    }
    idle_reads = 0;
    for (const StoredEvent& e : events) {
      if (heads.Covers(e.position)) {
        if (Status s = fn(e); !s.ok()) return s;
      }
      at.Advance(e.position);
    }
  }
  return Status::Ok();
}

}  // namespace authledger
