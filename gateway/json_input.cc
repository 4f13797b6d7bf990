#include "gateway/json_input.h"

namespace authledger {

using json = nlohmann::json;

Result<JsonInput> JsonInput::Parse(const HttpRequest& req, std::initializer_list<std::string_view> allowed,
                                   bool empty_ok) {
  auto ct = req[http::field::content_type];
  if (!ct.empty() && ct.find("json") == std::string_view::npos)
    return Status::InvalidArgument("Content-Type must be application/json");
  JsonInput in;
  const std::string& body = req.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (!empty_ok) return Status::InvalidArgument("request body must be a JSON object");
    in.j_ = json::object();
    return in;
  }
  in.j_ = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (in.j_.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!in.j_.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  for (const auto& [k, v] : in.j_.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == k;
    if (!known) {
      std::string shown = k.size() > 64 ? k.substr(0, 64) + "..." : k;
      return Status::InvalidArgument("unknown field '" + shown + "'");
    }
  }
  return in;
}

bool JsonInput::Has(std::string_view name) const {
  auto it = j_.find(name);
  return it != j_.end() && !it->is_null();
}

Status JsonInput::String(std::string_view name, std::string* out, bool required, std::size_t max_len) const {
  auto it = j_.find(name);
  std::string n(name);
  if (it == j_.end() || it->is_null())
    return required ? Status::InvalidArgument("field '" + n + "' is required") : Status::Ok();
  if (!it->is_string()) return Status::InvalidArgument("field '" + n + "' must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len)
    return Status::InvalidArgument("field '" + n + "' is longer than " + std::to_string(max_len) + " characters");
  *out = s;
  return Status::Ok();
}

Status JsonInput::StringList(std::string_view name, std::vector<std::string>* out, bool required, std::size_t max_items,
                             std::size_t max_len) const {
  auto it = j_.find(name);
  std::string n(name);
  if (it == j_.end() || it->is_null())
    return required ? Status::InvalidArgument("field '" + n + "' is required") : Status::Ok();
  if (!it->is_array()) return Status::InvalidArgument("field '" + n + "' must be an array of strings");
  if (it->size() > max_items)
    return Status::InvalidArgument("field '" + n + "' has more than " + std::to_string(max_items) + " items");
  std::vector<std::string> v;
  for (const auto& e : *it) {
    if (!e.is_string()) return Status::InvalidArgument("field '" + n + "' must be an array of strings");
    if (e.get_ref<const std::string&>().size() > max_len)
      return Status::InvalidArgument("an item of '" + n + "' is longer than " + std::to_string(max_len) +
                                     " characters");
    v.push_back(e.get<std::string>());
  }
  *out = std::move(v);
  return Status::Ok();
}

Status JsonInput::Integer(std::string_view name, std::optional<std::int64_t>* out, std::int64_t min,
                          std::int64_t max) const {
  auto it = j_.find(name);
  std::string n(name);
  if (it == j_.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return Status::InvalidArgument("field '" + n + "' must be an integer");
  auto v = it->get<std::int64_t>();
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) v = max + 1;
  if (v < min || v > max)
    return Status::InvalidArgument("field '" + n + "' must be between " + std::to_string(min) + " and " +
                                   std::to_string(max));
  *out = v;
  return Status::Ok();
}

}  // namespace authledger
