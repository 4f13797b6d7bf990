// Strict JSON request bodies: validated at the edge so nothing below sees
// malformed input. Every failure is a Status::InvalidArgument whose message
// says which field is wrong and how (never echoing a secret).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/status.h"
#include "gateway/http_types.h"

namespace authledger {

class JsonInput {
 public:
  // The body must be a JSON object whose fields are all in `allowed`; an empty
  // body counts as {} when `empty_ok`. Content-Type, if present, must be JSON.
  static Result<JsonInput> Parse(const HttpRequest& req, std::initializer_list<std::string_view> allowed,
                                 bool empty_ok = false);

  // Each getter leaves *out untouched when the field is absent and not required.
  Status String(std::string_view name, std::string* out, bool required, std::size_t max_len) const;
  Status StringList(std::string_view name, std::vector<std::string>* out, bool required, std::size_t max_items,
                    std::size_t max_len) const;
  Status Integer(std::string_view name, std::optional<std::int64_t>* out, std::int64_t min, std::int64_t max) const;
  bool Has(std::string_view name) const;

 private:
  nlohmann::json j_;
};

}  // namespace authledger
