// What every fuzz target shares: FUZZ_CHECK, an assertion that holds in every build (a failed one
// aborts, so libFuzzer saves the input and the replay test fails), and the entry point each target
// defines. Under libFuzzer (cmake --preset fuzz) the entry point is driven by -fsanitize=fuzzer;
// under g++ it is driven by replay_main.cc, which replays the seed corpus in ctest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace authledger::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace authledger::fuzz
