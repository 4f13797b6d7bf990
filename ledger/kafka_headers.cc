#include "ledger/kafka_headers.h"

#include <iterator>
#include <string_view>
#include <utility>

#include "domain/decimal.h"

namespace authledger::kafka {
namespace {

// The header `name` of `hdrs` (its last value if repeated); nullopt if absent.
std::optional<std::string_view> Header(rd_kafka_headers_t* hdrs, const char* name) {
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || !value) return std::nullopt;
  return std::string_view(static_cast<const char*>(value), size);
}

}  // namespace

Result<HeadersPtr> MessageHeaders(const EnvelopeAttributes& a) {
  const std::pair<const char*, const std::string*> strings[] = {{"ce_specversion", &a.specversion},
                                                                {"ce_id", &a.id},
                                                                {"ce_source", &a.source},
                                                                {"ce_type", &a.type},
                                                                {"ce_subject", &a.subject},
                                                                {"ce_time", &a.time},
                                                                {"ce_partitionkey", &a.partitionkey}};
  for (const auto& [name, value] : strings) {
    if (value->empty()) return Status::InvalidArgument(std::string("no CloudEvents attribute for header ") + name);
  }
  if (a.accountseq == 0) return Status::InvalidArgument("no CloudEvents attribute for header ce_accountseq");
  HeadersPtr hdrs(rd_kafka_headers_new(std::size(strings) + 2));
  rd_kafka_header_add(hdrs.get(), "content-type", -1, kContentType, -1);
  for (const auto& [name, value] : strings)
    rd_kafka_header_add(hdrs.get(), name, -1, value->data(), static_cast<ssize_t>(value->size()));
  const std::string seq = std::to_string(a.accountseq);
  rd_kafka_header_add(hdrs.get(), "ce_accountseq", -1, seq.data(), static_cast<ssize_t>(seq.size()));
  return hdrs;
}

std::optional<MessageAccountSeq> MessageAccount(const rd_kafka_message_t* m) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    auto account = Header(hdrs, "ce_partitionkey");
    auto seq_text = Header(hdrs, "ce_accountseq");
    std::optional<std::uint64_t> seq = seq_text ? ParseDecimal(*seq_text) : std::nullopt;
    if (account && !account->empty() && seq) return MessageAccountSeq{std::string(*account), *seq};
  }
  if (!m->payload) return std::nullopt;
  auto attributes = ReadEnvelopeAttributes(std::string_view(static_cast<const char*>(m->payload), m->len));
  if (!attributes.ok()) return std::nullopt;
  return MessageAccountSeq{std::move(attributes->partitionkey), attributes->accountseq};
}

}  // namespace authledger::kafka
