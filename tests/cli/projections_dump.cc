// projections_dump: prints every row of a projection store, in order, one line each:
//   <column family> TAB <key as hex> TAB <value as hex>
// for the shell tests' byte-for-byte comparisons of projections (e.g. a store a
// server caught up after kill -9 against what `authledger rebuild` writes).
//
//   projections_dump <data dir>/projections
//
// Run it while no server holds the store. It only reads: a directory that is not
// a projection store of this version (or one left half-filled) is refused, not
// deleted as ProjectionStore::Open would.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "projections/store.h"

namespace {

void PutHex(std::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out->push_back(kDigits[c >> 4]);
    out->push_back(kDigits[c & 15]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using authledger::Cf;
  if (argc != 2) {
    std::fprintf(stderr, "usage: projections_dump <projections dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok()) {
    std::fprintf(stderr, "projections_dump: %s is not a projection store\n", dir.c_str());
    return 1;
  }
  std::sort(names.begin(), names.end());  // the same order whatever order the families were created in
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, cfs, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "projections_dump: cannot open %s: %s\n", dir.c_str(), s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  int rc = 0;
  std::string filling;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == authledger::CfName(Cf::kMeta) &&
        db->Get(rocksdb::ReadOptions(), handles[i], authledger::ProjectionStore::kFillingKey, &filling).ok()) {
      std::fprintf(stderr, "projections_dump: %s is marked half-filled\n", dir.c_str());
      rc = 1;
    }
  }
  std::string line;
  for (std::size_t i = 0; rc == 0 && i < names.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      line = names[i];
      line.push_back('\t');
      PutHex(std::string_view(it->key().data(), it->key().size()), &line);
      line.push_back('\t');
      PutHex(std::string_view(it->value().data(), it->value().size()), &line);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    if (!it->status().ok()) {
      std::fprintf(stderr, "projections_dump: reading %s: %s\n", names[i].c_str(), it->status().ToString().c_str());
      rc = 1;
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return std::fflush(stdout) == 0 ? rc : 1;
}
