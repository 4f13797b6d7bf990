// Verifier: the hot path — "is this API key valid for scope X from IP Y?".
// POST /v1/keys/verify, every Bearer-authenticated REST call (gateway/auth.h)
// and every open event stream's periodic re-check all answer through it.
//
// Checks, in this order; the first that fails is the answer:
//   1. MALFORMED          the text is not an API key (shape or CRC-32 checksum,
//                         domain/api_key.h), or its brand prefix is not this service's
//   2. NOT_FOUND          no key-index record for the key id, or the presented
//                         secret's HMAC (keyed by the pepper) differs from the
//                         stored hash, or the key's environment (live/test)
//                         differs from the text's — one answer for all three
//   3. REVOKED            the key was revoked
//   4. EXPIRED            now >= its end (expiry, or end of a rotation's grace)
//   5. IP_NOT_ALLOWED     the key has an IP allowlist and `ip` is empty, not an
//                         address, or outside every CIDR block of it
//   6. INSUFFICIENT_SCOPE `scope` is non-empty and not granted (admin:* grants all)
//   7. VALID
//
// Timing: an unknown key id costs the same HMAC and constant-time compare as a
// known one, and a wrong secret gives the same answer as an unknown id, so
// neither the answer nor the time says which key ids exist.
//
// I/O: one RocksDB point lookup of a small binary record (column family
// key_index, projections/key_index.h); never the ledger, never JSON. It sees
// what the projector has applied, nothing newer.
//
// Threads: Verify is const, takes no lock of its own and may run on any number
// of threads at once (RocksDB reads are thread-safe; the Clock must be too).
//
// Secrets: `detail` never contains the key; the constructor wipes its copy of
// the pepper once it has keyed the HMAC with it.
#pragma once

#include <string>
#include <string_view>

#include "domain/clock.h"
#include "domain/crypto.h"
#include "projections/key_index.h"
#include "projections/store.h"

namespace authledger {

enum class VerifyCode { kValid, kMalformed, kNotFound, kRevoked, kExpired, kInsufficientScope, kIpNotAllowed };
std::string_view VerifyCodeName(VerifyCode c);  // "VALID", "MALFORMED", ...

// The answer, with views into the key it was asked about and the record it was
// read from. A result may be reused for further calls (it keeps the buffer a
// record copied out of the memtable needs); Reset() releases the record — call
// it, or destroy the result, before the ProjectionStore closes.
struct VerifyResult {
  VerifyCode code = VerifyCode::kNotFound;
  std::string_view key_id;  // set once the key's shape was valid (a view into the key)
  KeyRecordView record;     // set once the secret matched (REVOKED and later codes); empty otherwise
  std::string_view detail;  // a human sentence; never contains the key
  bool valid() const { return code == VerifyCode::kValid; }

  VerifyResult() = default;
  VerifyResult(const VerifyResult&) = delete;
  VerifyResult& operator=(const VerifyResult&) = delete;
  void Reset();

  rocksdb::PinnableSlice value;  // the record's bytes: pinned in RocksDB's cache, or a copy
  std::string detail_storage;    // backs `detail` when it is not static text
};

class Verifier {
 public:
  // `store` and `clock` must outlive the Verifier. `brand`: the key prefix this service issues.
  Verifier(ProjectionStore& store, const Clock& clock, std::string pepper, std::string brand);
  // `scope` empty: any scope. `ip` empty: only keys without an IP allowlist can
  // be VALID (a restricted key answers IP_NOT_ALLOWED). *out is reset first;
  // its views point into `key` and into *out itself.
  void Verify(std::string_view key, std::string_view scope, std::string_view ip, VerifyResult* out) const;

 private:
  ProjectionStore& store_;
  const Clock& clock_;
  HmacSha256Key pepper_;
  std::string brand_;
};

}  // namespace authledger
