// Fuzz target: the JSON request readers (gateway/json_input.h, gateway/string_fields.h), including the
// verify hot path's reader (gateway/verify_api.cc reads {key, scope, ip} with StringFields). The first
// byte picks a Content-Type and a set of fields; the rest is the body. Checks:
//  - StringFields answers exactly what JsonInput::Parse + String() answers (its contract): the same
//    status code and message, and on success the same values; for the verify fields and for tiny
//    limits that values cross often;
//  - JsonInput's other getters (lists, integers, as the key and client handlers use them) never crash
//    and fail only with InvalidArgument.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "gateway/json_input.h"
#include "gateway/string_fields.h"

namespace {

using namespace authledger;

struct Specs {
  std::initializer_list<StringFieldSpec> fields;
  std::initializer_list<std::string_view> names;
};
// As gateway/verify_api.cc reads the verify body.
const Specs kVerifySpecs = {{{"key", true, 128}, {"scope", false, 64}, {"ip", false, 64}}, {"key", "scope", "ip"}};
const Specs kTinySpecs = {{{"a", true, 3}, {"b", false, 1}, {"c", false, 0}, {"\xC3\xA9", false, 4}},
                          {"a", "b", "c", "\xC3\xA9"}};

constexpr std::string_view kContentTypes[] = {
    "", "application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json", "JSON"};

void CheckSame(const HttpRequest& req, const Specs& specs) {
  Status dom_status = Status::Ok();
  std::vector<std::string> dom_values;
  auto in = JsonInput::Parse(req, specs.names);
  if (!in.ok()) {
    dom_status = in.status();
  } else {
    for (const StringFieldSpec& s : specs.fields) {
      std::string v;
      dom_status = in.value().String(s.name, &v, s.required, s.max_len);
      if (!dom_status.ok()) break;
      dom_values.push_back(v);
    }
  }
  StringFields fields;
  const Status st = fields.Read(req, specs.fields);
  FUZZ_CHECK(st.code() == dom_status.code());
  FUZZ_CHECK(st.message() == dom_status.message());
  if (!st.ok()) return;
  for (std::size_t i = 0; i < dom_values.size(); ++i) FUZZ_CHECK(fields[i] == dom_values[i]);
}

void CheckGetters(const HttpRequest& req) {
  auto in = JsonInput::Parse(req, {"name", "scopes", "environment", "allowed_ips", "grace_period_seconds"},
                             /*empty_ok=*/true);
  if (!in.ok()) {
    FUZZ_CHECK(in.status().code() == Status::Code::kInvalidArgument);
    return;
  }
  std::string name;
  std::vector<std::string> scopes;
  std::optional<std::int64_t> grace;
  for (const Status& s :
       {in.value().String("name", &name, false, 100), in.value().StringList("scopes", &scopes, false, 50, 64),
        in.value().StringList("allowed_ips", &scopes, false, 3, 43),
        in.value().Integer("grace_period_seconds", &grace, 0, 7 * 86400)}) {
    FUZZ_CHECK(s.ok() || s.code() == Status::Code::kInvalidArgument);
  }
  if (grace) FUZZ_CHECK(*grace >= 0 && *grace <= 7 * 86400);
  (void)in.value().Has("environment");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view content_type = kContentTypes[data[0] % std::size(kContentTypes)];
  HttpRequest req{http::verb::post, "/v1/keys/verify", 11};
  if (!content_type.empty()) req.set(http::field::content_type, std::string(content_type));
  req.body() = std::string(fuzz::AsText(data + 1, size - 1));
  CheckSame(req, (data[0] & 0x80) != 0 ? kTinySpecs : kVerifySpecs);
  CheckGetters(req);
  return 0;
}
