// Fuzz target: the TOML configuration (app/config.h). Any bytes as a configuration file: LoadConfigFile
// never crashes and fails only with InvalidArgument; a configuration it loads validates to OK or
// InvalidArgument. The same bytes also go through the value parsers the file and the flags use
// (ParseDuration, SplitHostPort), whose accepted results must stay in their documented ranges.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string text(fuzz::AsText(data, size));

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
