#include "ledger/scan.h"

#include "ledger/batch_reader.h"

namespace authledger {

Status ScanLedger(EventLog& log, const std::function<Status(const StoredEvent&)>& fn, std::size_t batch) {
  BatchReader reader(log, Cursor(log.Partitions()), log.Heads(), batch, /*decode=*/false);
  DecodedBatch b;
  while (!reader.done()) {
    if (Status s = reader.Next(&b); !s.ok()) return s;
    for (const StoredEvent& e : b.events)
      if (Status s = fn(e); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace authledger
