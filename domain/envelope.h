// The event envelope: CloudEvents 1.0, JSON structured mode.
//
//   {"specversion":"1.0", "id":"<UUIDv7>", "source":"/accounts/<account id>",
//    "type":"io.authledger.key.created.v1", "subject":"keys/<key id>",
//    "time":"2026-11-26T07:04:33.123Z", "datacontenttype":"application/json",
//    "partitionkey":"<account id>",        (CloudEvents partitioning extension)
//    "accountseq":7,                       (1, 2, 3, ... per account, no gaps)
//    "prevhash":"<hex SHA-256 of the stored bytes of the account's event seq-1>",
//    "actortype":"key|cli|system", "actorid":"<key id | user>",
//    "actorip":"203.0.113.9", "actorendpoint":"POST /v1/keys",   (when known)
//    "actoremail":"alice@example.com",  (when the calling key named the person it acts for)
//    "data":{...}}
//
// EncodeEvent writes the canonical bytes (object keys sorted, no whitespace); the
// ledger stores exactly those bytes and the hash chain is over them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/crypto.h"
#include "domain/events.h"

namespace authledger {

// "0000…0000": prevhash of an account's first event.
extern const std::string kGenesisHash;

struct Actor {
  std::string type;      // "key", "cli", "system"
  std::string id;        // key id, OS user, or component name
  std::string ip;        // source IP, "" if none
  std::string endpoint;  // "POST /v1/keys", "" if none
  std::string email;     // the person a key acted for (X-Actor-Email, domain/email.h), "" if none

  // A REST call authenticated by key `key_id`.
  static Actor Key(std::string key_id, std::string ip, std::string endpoint, std::string email = {}) {
    return Actor{"key", std::move(key_id), std::move(ip), std::move(endpoint), std::move(email)};
  }
  // An operator at the command line (`user` is the OS user name).
  static Actor Cli(std::string user, std::string endpoint = {}) {
    return Actor{"cli", std::move(user), {}, std::move(endpoint), {}};
  }
  // The server acting by itself (`component`: "usage-recorder", "checkpointer", ...).
  static Actor System(std::string component) { return Actor{"system", std::move(component), {}, {}, {}}; }
};

struct Event {
  std::string id;  // UUIDv7
  std::string account_id;
  std::uint64_t seq = 0;
  std::string prev_hash;  // hex
  TimeMs time = 0;
  Actor actor;
  EventData data;
};

// The CloudEvents attributes that identify and route an envelope (everything but
// datacontenttype, prevhash, the actor and data): what a transport may carry next
// to the bytes, e.g. the ledger's Kafka message headers. Never anything of data.
struct EnvelopeAttributes {
  std::string specversion;  // "1.0"
  std::string id;
  std::string source;  // "/accounts/<account id>"
  std::string type;
  std::string subject;
  std::string time;          // RFC 3339 text, exactly as in the envelope
  std::string partitionkey;  // the account id
  std::uint64_t accountseq = 0;

  bool operator==(const EnvelopeAttributes&) const = default;
};

// The attributes EncodeEvent(e) writes (EncodeEvent takes them from here).
EnvelopeAttributes AttributesOf(const Event& e);
// The attributes of envelope bytes, for tools and tests that only have bytes:
// InvalidArgument if the bytes are not a JSON object holding each of them (the
// strings as strings, accountseq as an unsigned integer). Checks nothing else.
Result<EnvelopeAttributes> ReadEnvelopeAttributes(std::string_view bytes);

std::string EncodeEvent(const Event& e);
// Strict decoding of stored bytes; Corruption if they are not a valid envelope.
// Bytes in EncodeEvent's canonical form take a fast path (no JSON DOM); anything
// else is decoded by the general JSON parser, with the same result either way.
Result<Event> DecodeEvent(std::string_view bytes);
// Hex SHA-256 of stored bytes: what the next event's prevhash must be.
std::string EventHash(std::string_view stored_bytes);

// For tests: the two halves of DecodeEvent.
namespace internal {
// The reference decoder: parses into a JSON DOM and validates; defines DecodeEvent's result.
Result<Event> DecodeEventWithDom(std::string_view bytes);
// The fast path: the event if `bytes` are a fully valid envelope in canonical form
// (sorted keys, no whitespace, no unknown, duplicate or null field), nullopt if it
// is unsure. Whenever it returns an event, DecodeEventWithDom returns the same one.
std::optional<Event> DecodeCanonicalEvent(std::string_view bytes);
}  // namespace internal

}  // namespace authledger
