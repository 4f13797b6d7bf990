// Fuzz target: the event envelope decoder (domain/envelope.h, and the per-type data decoding of
// domain/events.h under it). Any bytes: decoding never crashes and fails only with Corruption; the
// canonical fast path agrees with the reference DOM decoder whenever it answers; a decoded event
// encodes to canonical bytes that decode to the same event; ReadEnvelopeAttributes of a decodable
// event's canonical bytes gives the event's attributes.
#include <optional>
#include <string_view>

#include "domain/envelope.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string_view bytes = fuzz::AsText(data, size);
  (void)ReadEnvelopeAttributes(bytes);

  const Result<Event> dom = internal::DecodeEventWithDom(bytes);
  const std::optional<Event> fast = internal::DecodeCanonicalEvent(bytes);
  if (fast) {
    FUZZ_CHECK(dom.ok());
    FUZZ_CHECK(EncodeEvent(*fast) == EncodeEvent(dom.value()));
  }
  const Result<Event> decoded = DecodeEvent(bytes);
  FUZZ_CHECK(decoded.ok() == dom.ok());
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().code() == Status::Code::kCorruption);
    return 0;
  }
  const std::string canonical = EncodeEvent(decoded.value());
  const Result<Event> again = DecodeEvent(canonical);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(EncodeEvent(again.value()) == canonical);
  // The decoder derives subject from data and ignores datacontenttype and unknown members, so the
  // attributes as written agree with the event's only in canonical bytes.
  const Result<EnvelopeAttributes> attributes = ReadEnvelopeAttributes(canonical);
  FUZZ_CHECK(attributes.ok() && attributes.value() == AttributesOf(decoded.value()));
  if (fast) FUZZ_CHECK(ReadEnvelopeAttributes(bytes).ok());
  return 0;
}
