// Fuzz target: IP addresses and CIDR blocks (domain/cidr.h). Any bytes: the parsers never crash; a block
// they accept prints canonically, its text parses back to the same block, and it contains its own base;
// an address it accepts is in the list-free allowlist and in the block of its own full prefix.
#include <optional>
#include <string_view>

#include "domain/cidr.h"
#include "fuzz_check.h"

namespace {

bool SameIp(const authledger::IpAddress& a, const authledger::IpAddress& b) {
  return a.bytes == b.bytes && a.v4 == b.v4;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string_view input = fuzz::AsText(data, size);
  if (std::optional<IpAddress> ip = ParseIp(input)) {
    FUZZ_CHECK(AllowedByList({}, *ip));
    std::optional<Cidr> self = ParseCidr(input);
    FUZZ_CHECK(self && self->Contains(*ip) && SameIp(self->base, *ip));
  }
  std::optional<Cidr> block = ParseCidr(input);
  if (!block) return 0;
  FUZZ_CHECK(block->prefix >= 0 && block->prefix <= 128);
  FUZZ_CHECK(block->Contains(block->base));
  const std::string text = block->ToString();
  std::optional<Cidr> again = ParseCidr(text);
  FUZZ_CHECK(again && again->prefix == block->prefix && SameIp(again->base, block->base));
  FUZZ_CHECK(again->ToString() == text);
  // Split the input at the '/' (if any) and probe the block with the address part too.
  if (std::optional<IpAddress> base = ParseIp(input.substr(0, input.find('/')))) {
    FUZZ_CHECK(block->Contains(*base));
    FUZZ_CHECK(AllowedByList({*block}, *base));
  }
  return 0;
}
