#include "domain/events.h"

#include <nlohmann/json.hpp>

namespace authledger {

using json = nlohmann::json;

namespace {

template <typename T>
inline constexpr bool kIsOptional = false;
template <typename T>
inline constexpr bool kIsOptional<std::optional<T>> = true;

// ---- encoding ----------------------------------------------------------------------

template <HasFields T>
json StructToJson(const T& value, bool audit_view);

template <typename M>
json ValueToJson(const M& v) {
  if constexpr (kIsOptional<M>) {
    return ValueToJson(*v);
  } else if constexpr (std::is_same_v<M, std::string> || std::is_same_v<M, std::vector<std::string>> ||
                       std::is_integral_v<M>) {
    return json(v);
  } else {  // a list of structs
    json a = json::array();
    for (const auto& element : v) a.push_back(StructToJson(element, false));
    return a;
  }
}

template <typename M>
bool IsEmpty(const M& v) {
  if constexpr (kIsOptional<M>) return !v.has_value();
  else if constexpr (std::is_integral_v<M>) return v == 0;
  else return v.empty();
}

template <HasFields T>
json StructToJson(const T& value, bool audit_view) {
  json j = json::object();
  ForEachField<T>([&](const auto& field) {
    if (audit_view && !field.audit_visible()) return;
    const auto& v = value.*(field.member);
    if (field.presence == Presence::kOmitEmpty && IsEmpty(v)) return;
    j[std::string(field.name)] = ValueToJson(v);
  });
  return j;
}

// ---- strict decoding ---------------------------------------------------------------
// Each reader returns "" or the problem with the value (the caller names the field).

template <HasFields T>
std::string StructFromJson(const json& j, T* out);

template <typename M>
std::string ValueFromJson(const json& v, M* out) {
  if constexpr (kIsOptional<M>) {
    return ValueFromJson(v, &out->emplace());
  } else if constexpr (std::is_same_v<M, std::string>) {
    if (!v.is_string()) return "must be a string";
    *out = v.get<std::string>();
    return {};
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX))
      return "must be a 64-bit integer";
    *out = v.get<std::int64_t>();
    return {};
  } else if constexpr (std::is_same_v<M, std::uint64_t>) {
    // nlohmann keeps parsed non-negative integers unsigned, others signed.
    if (!v.is_number_integer()) return "must be an integer";
    if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) return "must be >= 0";
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) return "must be at most 9223372036854775807";
    *out = v.is_number_unsigned() ? v.get<std::uint64_t>() : static_cast<std::uint64_t>(v.get<std::int64_t>());
    return {};
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    if (!v.is_array()) return "must be an array";
    for (const auto& e : v) {
      if (!e.is_string()) return "must hold strings";
      out->push_back(e.get<std::string>());
    }
    return {};
  } else {  // a list of structs
    if (!v.is_array()) return "must be an array";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_object()) return "must hold objects";
      if (std::string e = StructFromJson(v[i], &out->emplace_back()); !e.empty()) {
        std::string where = "[";  // built step by step: g++ 12 -O3 sees a false -Wrestrict in a + b + c
        where += std::to_string(i);
        where += "]: ";
        return where + e;
      }
    }
    return {};
  }
}

// The first problem, as "missing field 'x'" or "field 'x' must be ...", or "".
template <HasFields T>
std::string StructFromJson(const json& j, T* out) {
  std::string error;
  ForEachField<T>([&](const auto& field) {
    if (!error.empty()) return;
    const std::string name(field.name);
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (field.required()) error = "missing field '" + name + "'";
      return;
    }
    if (std::string e = ValueFromJson(*it, &(out->*(field.member))); !e.empty())
      error = "field '" + name + (e.front() == '[' ? "'" : "' ") + e;
  });
  return error;
}

template <HasFields T>
Result<EventData> DataFromJson(const json& j) {
  T value;
  if (std::string e = StructFromJson(j, &value); !e.empty())
    return Status::InvalidArgument(std::string(T::kType) + ": " + e);
  return EventData(std::move(value));
}

}  // namespace

std::string_view EventType(const EventData& d) {
  return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::kType; }, d);
}

std::string CheckpointMessage(std::uint64_t covers_position, const std::vector<ChainHead>& heads) {
  std::string m = "authledger-checkpoint-v1\n" + std::to_string(covers_position) + "\n";
  for (const auto& h : heads) m += h.account_id + " " + std::to_string(h.seq) + " " + h.hash + "\n";
  return m;
}

std::string TreeHeadMessage(std::uint32_t partition, std::uint64_t tree_size, std::string_view root_hex,
                            TimeMs timestamp) {
  return "authledger-tree-head-v1\n" + std::to_string(partition) + "\n" + std::to_string(tree_size) + "\n" +
         std::string(root_hex) + "\n" + std::to_string(timestamp) + "\n";
}

std::string_view EventKeyId(const EventData& d) {
  return std::visit(
      [](const auto& e) -> std::string_view {
        if constexpr (AboutKey<decltype(e)>) return e.key_id;
        else return {};
      },
      d);
}

std::string_view EventClientId(const EventData& d) {
  return std::visit(
      [](const auto& e) -> std::string_view {
        if constexpr (AboutClient<decltype(e)>) return e.client_id;
        else return {};
      },
      d);
}

std::string EventSubject(const EventData& d) {
  if (std::holds_alternative<LedgerCheckpoint>(d)) return "checkpoint";
  if (std::string_view k = EventKeyId(d); !k.empty()) return "keys/" + std::string(k);
  if (std::string_view c = EventClientId(d); !c.empty()) return "clients/" + std::string(c);
  return "account";
}

std::vector<std::string_view> AllEventTypes() {
  std::vector<std::string_view> types;
  ForEachEventType([&](auto type) { types.push_back(decltype(type)::type::kType); });
  return types;
}

json EventDataToJson(const EventData& d) {
  return std::visit([](const auto& e) { return StructToJson(e, /*audit_view=*/false); }, d);
}

json EventDataToAuditJson(const EventData& d) {
  return std::visit([](const auto& e) { return StructToJson(e, /*audit_view=*/true); }, d);
}

Result<EventData> EventDataFromJson(std::string_view type, const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("event data must be an object");
  std::optional<Result<EventData>> decoded;
  ForEachEventType([&](auto t) {
    using T = typename decltype(t)::type;
    if (!decoded && type == T::kType) decoded = DataFromJson<T>(j);
  });
  if (!decoded) return Status::InvalidArgument("unknown event type '" + std::string(type) + "'");
  return std::move(*decoded);
}

std::string LedgerAccountId(std::uint32_t partition) {
  std::string id(kLedgerAccountId);
  id[id.size() - 2] = static_cast<char>('0' + partition / 10 % 10);
  id[id.size() - 1] = static_cast<char>('0' + partition % 10);
  return id;
}

std::optional<std::uint32_t> LedgerChainPartition(std::string_view account_id) {
  constexpr std::string_view prefix = kLedgerAccountId.substr(0, kLedgerAccountId.size() - 2);
  if (account_id.size() != kLedgerAccountId.size() || !account_id.starts_with(prefix)) return std::nullopt;
  char a = account_id[account_id.size() - 2], b = account_id[account_id.size() - 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
  std::uint32_t p = static_cast<std::uint32_t>((a - '0') * 10 + (b - '0'));
  if (p >= 32) return std::nullopt;
  return p;
}

}  // namespace authledger
