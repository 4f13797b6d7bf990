#include "ledger/chain_verifier.h"

#include "domain/envelope.h"

namespace authledger {

Status ChainVerifier::Fail(std::string account, std::uint64_t seq, Position position, const std::string& what) {
  report_.account = std::move(account);
  report_.seq = seq;
  report_.position = position;
  status_ = Status::Corruption(what);
  return status_;
}

Status ChainVerifier::Add(Position position, std::string_view bytes) {
  if (!status_.ok()) return status_;
  const std::string at = "position " + std::to_string(position);
  if (position != last_position_ + 1)
    return Fail("", 0, position,
                at + ": expected position " + std::to_string(last_position_ + 1) + " (events missing or reordered)");
  last_position_ = position;
  auto e = DecodeEvent(bytes);
  if (!e.ok()) return Fail("", 0, position, at + ": not a valid event envelope (altered?): " + e.status().message());
  if (!ids_.insert(e->id).second)
    return Fail(e->account_id, e->seq, position, at + ": event id " + e->id + " appears twice (a copy was inserted)");
  Head& head = heads_[e->account_id];
  if (head.seq == 0 && head.hash.empty()) {
    head.hash = kGenesisHash;
    ++report_.accounts;
  }
  const std::string link = "account " + e->account_id + " seq " + std::to_string(e->seq) + " at " + at;
  if (e->seq != head.seq + 1) {
    std::string why = e->seq <= head.seq ? "a sequence already seen (reordered or inserted)"
                                         : "a gap after seq " + std::to_string(head.seq) + " (events removed)";
    return Fail(e->account_id, e->seq, position, link + ": expected seq " + std::to_string(head.seq + 1) + ", found " + why);
  }
  if (e->prev_hash != head.hash) {
    std::string prev = head.seq == 0 ? "the chain's start"
                                     : "seq " + std::to_string(head.seq) + " at position " + std::to_string(head.position);
    return Fail(e->account_id, e->seq, position,
                link + ": prevhash does not match the stored bytes of " + prev + " (that event was altered, or this one inserted)");
  }
  head.seq = e->seq;
  head.hash = EventHash(bytes);
  head.position = position;
  ++report_.events;
  return Status::Ok();
}

}  // namespace authledger
