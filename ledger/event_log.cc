#include "ledger/event_log.h"

#include <utility>

namespace authledger {

AppendEvent AppendEventOf(const Event& e) { return AppendEvent{EncodeEvent(e), AttributesOf(e)}; }

Result<AppendEvent> AppendEventFromBytes(std::string envelope) {
  auto attributes = ReadEnvelopeAttributes(envelope);
  if (!attributes.ok()) return attributes.status();
  return AppendEvent{std::move(envelope), std::move(attributes).value()};
}

Status CheckBatchAttributes(const AppendBatch& batch) {
  for (std::size_t i = 0; i < batch.events.size(); ++i) {
    const EnvelopeAttributes& a = batch.events[i].attributes;
    if (a.partitionkey != batch.account_id)
      return Status::InvalidArgument("ledger batch event " + std::to_string(i) + " has partitionkey '" +
                                     a.partitionkey + "' in a batch of account '" + batch.account_id + "'");
    // expected_seq + i + 1 cannot wrap for a sequence that fits: compare by subtraction.
    if (a.accountseq <= batch.expected_seq || a.accountseq - batch.expected_seq != i + 1)
      return Status::InvalidArgument("ledger batch event " + std::to_string(i) + " has accountseq " +
                                     std::to_string(a.accountseq) + ", expected " + std::to_string(batch.expected_seq) +
                                     " + " + std::to_string(i + 1));
  }
  return Status::Ok();
}

}  // namespace authledger
