#include "dataplane/api/reply_sink.hh"

#include <algorithm>
#include <cstring>

namespace traverse::api {

void ReplySink::begin(const MessageHeader& request) {
  request_ = request;
  messages_.clear();
  final_ = false;
  misuse_ = 0;
}

Message& ReplySink::add(MessageType type, uint32_t length) {
  Message& m = messages_.emplace_back();
  std::memset(&m, 0, sizeof m);
  m.header.version = kApiVersion;
  m.header.type = type;
  m.header.length = length;
  m.header.request_id = request_.request_id;
  return m;
}

// A typed answer is allowed only once, and only for the request that asks
// for it; otherwise the client would wait for, or misread, the wrong thing.
bool ReplySink::accept(MessageType request_type) {
  if (final_ || request_.type != request_type) {
    ++misuse_;
    return false;
  }
  return true;
}

void ReplySink::reply(ReplyStatus status, uint32_t value, std::string_view detail) {
  if (final_) {
    ++misuse_;
    return;
  }
  Message& m = add(MessageType::reply, sizeof(Reply));
  m.body.reply.status = status;
  m.body.reply.value = value;
  const std::size_t n = std::min(detail.size(), sizeof m.body.reply.detail - 1);
  if (n != 0) {  // an empty string_view may have a null data()
    std::memcpy(m.body.reply.detail, detail.data(), n);
  }
  final_ = true;
}

void ReplySink::counters_page(const CountersPage& page) {
  if (!accept(MessageType::counters_get)) {
    return;
  }
  if (page.count > kCountersPerPage || page.more > 1) {
    ++misuse_;  // right request, malformed page
    return;
  }
  Message& m = add(MessageType::counters_reply, sizeof(CountersPage));
  m.body.counters_page = page;
  for (NamedCounter& c : m.body.counters_page.counters) {
    c.name[sizeof c.name - 1] = '\0';  // the client relies on NUL-terminated names
  }
  final_ = page.more == 0;
}

void ReplySink::sa_counters(const SaCounters& counters) {
  if (!accept(MessageType::counters_get)) {
    return;
  }
  Message& m = add(MessageType::sa_counters_reply, sizeof(SaCounters));
  m.body.sa_counters = counters;
  final_ = true;
}

void ReplySink::sa_list_page(const SaListPage& page) {
  if (!accept(MessageType::sa_list)) {
    return;
  }
  if (page.count > kSasPerListPage || page.more > 1) {
    ++misuse_;
    return;
  }
  Message& m = add(MessageType::sa_list_reply, sizeof(SaListPage));
  m.body.sa_list = page;
  final_ = true;
}

bool ReplySink::finish() {
  if (!final_) {
    reply(ReplyStatus::internal, 0, "dataplane handler sent no reply");
    return false;
  }
  return misuse_ == 0;
}

}  // namespace traverse::api
