// Sample event data for tests of the event codecs: at least one of every event type (the
// catalogue test, tests/unit/event_catalogue_test.cc, fails naming this file when a type has
// none), every optional field set (quotes and UTF-8 in a name), plus variants with the optionals
// absent. Times are relative to `t0`. The checkpoints are only well-formed, not validly signed.
#pragma once

#include <string>
#include <vector>

#include "domain/clock.h"
#include "domain/events.h"

namespace authledger::testing {

inline std::vector<EventData> SampleEventData(TimeMs t0) {
  KeyCreated full;
  full.key_id = "7f3aQ9cXb2Lm";
  full.name = "CI pipeline \"prod\" \xc3\xa9\xe2\x82\xac";  // quotes and UTF-8
  full.scopes = {"alerts:read", "monitors:read"};
  full.environment = "live";
  full.secret_hash = std::string(64, 'f');
  full.expires_at = t0 + 90 * kDayMs;
  full.allowed_cidrs = {"10.0.0.0/8", "2001:db8::/32"};
  full.rotated_from = "OldKey000001";
  KeyCreated bare;
  bare.key_id = "Bare00000001";
  bare.name = "bare";
  bare.scopes = {"admin:*"};
  bare.environment = "test";
  bare.secret_hash = std::string(64, '0');
  ClientRegistered confidential;
  confidential.client_id = "clnt_7f3aQ9cXb2Lm";
  confidential.name = "PagerDuty Sync \xc3\xa9";
  confidential.description = "syncs \"incidents\"";
  confidential.redirect_uris = {"https://hooks.example.com/callback", "http://127.0.0.1:8080/cb"};
  confidential.scopes = {"alerts:read", "monitors:read"};
  confidential.grant_types = {"authorization_code", "client_credentials", "refresh_token"};
  confidential.token_endpoint_auth_method = "client_secret_basic";
  confidential.secret_hash = std::string(64, 'c');
  ClientRegistered pub;  // a public client: no secret hash, empty description
  pub.client_id = "clnt_Public000001";
  pub.name = "CLI";
  pub.scopes = {"monitors:read"};
  pub.grant_types = {"authorization_code"};
  pub.redirect_uris = {"http://localhost/cb"};
  pub.token_endpoint_auth_method = "none";
  return {
      AccountCreated{"Acme Monitoring"},
      full,
      bare,
      KeyScopesGranted{"7f3aQ9cXb2Lm", {"alerts:write", "metrics:read"}},
      KeyScopesRevoked{"7f3aQ9cXb2Lm", {"alerts:read"}},
      KeyRotated{"7f3aQ9cXb2Lm", "NewKey000002", t0 + 72 * kHourMs},
      KeyRevoked{"7f3aQ9cXb2Lm", "leaked in a public gist"},
      KeyRevoked{"7f3aQ9cXb2Lm", ""},
      KeyUsed{"7f3aQ9cXb2Lm", t0 - 5, "203.0.113.9", 17},
      KeyUsed{"7f3aQ9cXb2Lm", t0, "", 1ull << 40},
      confidential,
      pub,
      ClientSecretRotated{"clnt_7f3aQ9cXb2Lm", std::string(64, 'd')},
      ClientDeleted{"clnt_7f3aQ9cXb2Lm", "replaced by the v2 integration"},
      ClientDeleted{"clnt_Public000001", ""},
      LedgerCheckpoint{12345,
                       {{"acct_AbCdEf012345", 7, std::string(64, 'b')}, {"acct_ZzZz00001111", 1, std::string(64, 'c')}},
                       std::string(64, 'd'),
                       std::string(128, 'e'),
                       {},
                       {},
                       {}},
      LedgerCheckpoint{0, {}, std::string(64, 'd'), std::string(128, 'e'), {}, {}, {}},
      LedgerCheckpoint{12346,  // format 2: with a signed tree head
                       {{"acct_AbCdEf012345", 8, std::string(64, 'f')}},
                       std::string(64, 'd'),
                       std::string(128, 'e'),
                       12345,
                       std::string(64, '0'),
                       std::string(128, '1')},
  };
}

}  // namespace authledger::testing
