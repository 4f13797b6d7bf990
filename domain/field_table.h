// FieldTable: how an event type declares its data fields, once.
//
// Every event struct in events.h (and every struct nested in one, like ChainHead)
// lists its fields in a static constexpr Fields():
//
//   struct KeyRevoked {
//     static constexpr std::string_view kType = "io.authledger.key.revoked.v1";
//     std::string key_id;
//     std::string reason;
//     static constexpr auto Fields() {
//       return std::tuple{Field("key_id", &KeyRevoked::key_id), Field("reason", &KeyRevoked::reason, kDefault)};
//     }
//   };
//
// Everything that reads or writes event data follows from that table: the JSON
// encoder and the strict DOM decoder (events.cc), the canonical fast-path decoder
// (envelope.cc), the audit view's `changes` (audit-hidden fields left out), the
// tests' field lists and the catalogue test that holds schemas/ to it.
//
// A field's JSON type follows from its C++ type:
//   std::string               string
//   std::vector<std::string>  array of strings
//   std::int64_t (TimeMs)     integer in [-2^63, 2^63-1]
//   std::uint64_t             integer in [0, 2^63-1]
//   std::vector<T>            array of objects, where T has its own Fields()
//   std::optional<X>          X when set
// and its presence from the table:
//   kRequired  always written; reading fails if it is absent or null
//   kDefault   always written; absent or null reads as the C++ default ("", [], 0)
//              (for fields that older events may lack)
//   kOmitEmpty written only when not empty (a std::optional: when set); absent or
//              null reads as empty. The only presence a std::optional may have.
// Fields are listed in declaration order, which is also the order the decoder
// checks them in (the first problem found is the one reported). Names must be
// unique, lowercase snake_case, and sort in canonical JSON like any object key.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace authledger {

enum class Presence { kRequired, kDefault, kOmitEmpty };
inline constexpr Presence kRequired = Presence::kRequired;
inline constexpr Presence kDefault = Presence::kDefault;
inline constexpr Presence kOmitEmpty = Presence::kOmitEmpty;

// Who sees a field besides the ledger: kAudit shows it in the audit view's
// `changes`; kLedgerOnly keeps it there only (keyed hashes, ciphertexts).
enum class Visibility { kAudit, kLedgerOnly };
inline constexpr Visibility kLedgerOnly = Visibility::kLedgerOnly;

template <typename S, typename M>
struct FieldDef {
  using Struct = S;
  using Member = M;
  std::string_view name;
  M S::*member;
  Presence presence;
  Visibility visibility;

  constexpr bool required() const { return presence == Presence::kRequired; }
  constexpr bool audit_visible() const { return visibility == Visibility::kAudit; }
};

namespace field_internal {
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {
  using Element = T;
};
}  // namespace field_internal

// True for a struct with a field table.
template <typename T>
concept HasFields = requires {
  T::Fields();
};

template <typename M>
concept FieldType = std::is_same_v<M, std::string> || std::is_same_v<M, std::vector<std::string>> ||
                    std::is_same_v<M, std::int64_t> || std::is_same_v<M, std::uint64_t> ||
                    (field_internal::IsVector<M>::value&& HasFields<typename field_internal::IsVector<M>::Element>) ||
                    field_internal::IsOptional<M>::value;

template <typename S, typename M>
constexpr FieldDef<S, M> Field(std::string_view name, M S::*member, Presence presence = kRequired,
                               Visibility visibility = Visibility::kAudit) {
  static_assert(FieldType<M>, "an event field must be a string, string list, int64, uint64, list of structs with "
                              "Fields(), or std::optional of one of those");
  if constexpr (field_internal::IsOptional<M>::value)
    static_assert(!field_internal::IsOptional<typename M::value_type>::value, "no optional of optional");
  return FieldDef<S, M>{name, member, presence, visibility};
}

// Number of fields of T.
template <HasFields T>
inline constexpr std::size_t kFieldCount = std::tuple_size_v<decltype(T::Fields())>;

// Calls f(field) for each field of T, in declaration order.
template <HasFields T, typename F>
constexpr void ForEachField(F&& f) {
  std::apply([&](const auto&... field) { (f(field), ...); }, T::Fields());
}

// Calls f(field) for field number i of T (declaration order) and returns its
// result; `i` must be below kFieldCount<T>.
template <HasFields T, typename F>
bool VisitField(std::size_t i, F&& f) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    bool result = false;
    ((i == I ? (result = f(std::get<I>(T::Fields())), true) : false) || ...);
    return result;
  }
  (std::make_index_sequence<kFieldCount<T>>{});
}

// T's field names in declaration order.
template <HasFields T>
constexpr std::array<std::string_view, kFieldCount<T>> FieldNames() {
  std::array<std::string_view, kFieldCount<T>> names{};
  std::size_t i = 0;
  ForEachField<T>([&](const auto& field) { names[i++] = field.name; });
  return names;
}

// T's field numbers (declaration order) sorted by name: the order in which
// canonical JSON writes them.
template <HasFields T>
constexpr std::array<std::size_t, kFieldCount<T>> FieldsByName() {
  constexpr auto names = FieldNames<T>();
  std::array<std::size_t, kFieldCount<T>> order{};
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  return order;
}

// Compile-time checks of a table: names unique and non-empty, lowercase snake_case.
template <HasFields T>
constexpr bool ValidFieldTable() {
  constexpr auto names = FieldNames<T>();
  constexpr auto order = FieldsByName<T>();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return false;
    for (char c : names[i])
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    if (i > 0 && names[order[i - 1]] == names[order[i]]) return false;
  }
  return true;
}

}  // namespace authledger
