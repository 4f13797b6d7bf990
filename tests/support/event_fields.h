// Field-by-field equality of event data, independent of any JSON codec: each
// type's fields as a tuple of references (EventFields), taken from the type's
// field table (domain/field_table.h), and SameEventData.
#pragma once

#include <tuple>
#include <type_traits>
#include <variant>

#include "domain/events.h"

namespace authledger::testing {

template <HasFields T>
auto EventFields(const T& e) {
  return std::apply([&](const auto&... field) { return std::tie(e.*(field.member)...); }, T::Fields());
}

// Same type and every field equal.
inline bool SameEventData(const EventData& a, const EventData& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) { return EventFields(x) == EventFields(std::get<std::decay_t<decltype(x)>>(b)); }, a);
}

}  // namespace authledger::testing
