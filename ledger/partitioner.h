// Which partition of the ledger an account's events go to.
//
// Kafka-compatible: the same murmur2 hash of the account id that Kafka's Java
// client uses for keyed records (toPositive(murmur2(key)) % partitions), so
// other producers and tools agree on where an account lives. The checkpoint
// chains are the exception: LedgerAccountId(p) lives in partition p, so each
// partition carries the signed checkpoints over its own accounts.
#pragma once

#include <cstdint>
#include <string_view>

namespace authledger {

std::uint32_t Murmur2(std::string_view data);
std::uint32_t PartitionFor(std::string_view account_id, std::uint32_t partitions);

}  // namespace authledger
