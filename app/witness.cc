#include "app/witness.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace authledger {

namespace {

Status WriteFile(int fd, const std::string& data, const std::string& path) {
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::IOError("cannot fsync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Status Append(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  Status s = WriteFile(fd, line, path);
  ::close(fd);
  return s;
}

Status Replace(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  Status s = WriteFile(fd, text, tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = Status::IOError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace

Status WitnessTreeHead(const std::string& dir, const SignedTreeHead& head) {
  const std::string json = TreeHeadToJson(head).dump();
  if (Status s = Append(dir + "/tree-heads.jsonl", json + "\n"); !s.ok()) return s;
  return Replace(dir + "/tree-head-" + std::to_string(head.partition) + ".json", json + "\n");
}

}  // namespace authledger
