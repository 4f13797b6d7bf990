// Fuzz target: the TOML configuration (app/config.h). Any bytes as a configuration file: LoadConfigFile
// never crashes and fails only with InvalidArgument; a configuration it loads validates to OK or
// InvalidArgument. The same bytes also go through the value parsers the file and the flags use
// (ParseDuration, SplitHostPort), whose accepted results must stay in their documented ranges.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "app/config.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;

// Never destroyed (the exit handler that removes it runs after static destructors).
const std::string& ScratchFile() {
  static const std::string* path = [] {
    std::string templ = (fs::temp_directory_path() / "authledger-fuzz-config.XXXXXX").string();
    const int fd = mkstemp(templ.data());
    FUZZ_CHECK(fd >= 0);
    close(fd);
    auto* made = new std::string(templ);
    std::atexit([] { std::remove(ScratchFile().c_str()); });
    return made;
  }();
  return *path;
}

// A known defect of toml++ 3.3.0 (Debian 12's libtomlplusplus-dev), found by this target: a code point
// in [U+00A1, U+0499], [U+2C5E, U+3057] or [U+FB26, U+FEFE] (but U+3000) where whitespace may stand,
// i.e. outside strings and comments, reaches TOML_UNREACHABLE in is_non_ascii_horizontal_whitespace
// (undefined behaviour; g++ and clang then just pick a branch). Third-party and reached only from the
// operator's own configuration file, so it is recorded in docs/fuzzing.md, and inputs holding such a
// code point anywhere are skipped so that fuzzing goes on past it.
bool HitsTomlUnreachable(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    char32_t c = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF && i + 1 < s.size()) {
      c = static_cast<char32_t>((b0 & 0x1F) << 6 | (static_cast<unsigned char>(s[i + 1]) & 0x3F));
    } else if (b0 >= 0xE0 && b0 <= 0xEF && i + 2 < s.size()) {
      c = static_cast<char32_t>((b0 & 0x0F) << 12 | (static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6 |
                                (static_cast<unsigned char>(s[i + 2]) & 0x3F));
    } else {
      continue;
    }
    if ((c >= 0xA1 && c <= 0x499) || (c >= 0x2C5E && c <= 0x3057 && c != 0x3000) || (c >= 0xFB26 && c <= 0xFEFE))
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string text(fuzz::AsText(data, size));
  if (HitsTomlUnreachable(text)) return 0;

  auto duration = ParseDuration(text);
  if (duration.ok()) FUZZ_CHECK(duration.value() >= 0 && duration.value() <= 100 * 366 * kDayMs);
  std::string host;
  std::uint16_t port = 0;
  if (SplitHostPort(text, &host, &port).ok()) FUZZ_CHECK(!host.empty());

  {
    std::ofstream f(ScratchFile(), std::ios::binary | std::ios::trunc);
    f << text;
  }
  auto config = LoadConfigFile(ScratchFile());
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == Status::Code::kInvalidArgument);
    return 0;
  }
  const Status valid = config.value().Validate();
  FUZZ_CHECK(valid.ok() || valid.code() == Status::Code::kInvalidArgument);
  return 0;
}
