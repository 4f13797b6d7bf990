#include "ledger/partitioner.h"

#include "domain/events.h"

namespace authledger {

// Kafka's org.apache.kafka.common.utils.Utils.murmur2 (seed 0x9747b28c).
std::uint32_t Murmur2(std::string_view data) {
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t len = data.size();
  std::uint32_t h = 0x9747b28c ^ static_cast<std::uint32_t>(len);
  while (len >= 4) {
    std::uint32_t k = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
    p += 4;
    len -= 4;
  }
  switch (len) {
    case 3: h ^= static_cast<std::uint32_t>(p[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<std::uint32_t>(p[1]) << 8; [[fallthrough]];
    case 1: h ^= p[0]; h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::uint32_t PartitionFor(std::string_view account_id, std::uint32_t partitions) {
  if (partitions <= 1) return 0;
  if (auto p = LedgerChainPartition(account_id); p && *p < partitions) return *p;
  return (Murmur2(account_id) & 0x7fffffff) % partitions;
}

}  // namespace authledger
