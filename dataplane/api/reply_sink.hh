// Collects the answer to one request and enforces "exactly one final answer":
// later answers and pages of the wrong kind are dropped and counted as misuse;
// finish() supplies an internal-error Reply when nothing was answered. Owned by
// the server's control thread; not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/api/messages.hh"

namespace traverse::api {

class ReplySink {
 public:
  // Starts the answer to the request with this header (drops the previous one).
  void begin(const MessageHeader& request);

  // Final: a status with an optional value and an operator-readable detail
  // (truncated to fit Reply::detail).
  void reply(ReplyStatus status, uint32_t value = 0, std::string_view detail = {});
  // counters_get scope 0: pages; the one with more == 0 is final.
  void counters_page(const CountersPage& page);
  // counters_get scope 1: final.
  void sa_counters(const SaCounters& counters);
  // sa_list: one page per request, final (the client asks again from next_index).
  void sa_list_page(const SaListPage& page);

  // Ends the answer; adds Reply{internal} when no final message was written.
  // Returns false when the handler misbehaved (nothing final, or misuse).
  bool finish();

  bool final_sent() const { return final_; }
  uint32_t misuse() const { return misuse_; }
  std::span<const Message> messages() const { return messages_; }
  const MessageHeader& request() const { return request_; }

 private:
  Message& add(MessageType type, uint32_t length);
  bool accept(MessageType request_type);

  MessageHeader request_{};
  std::vector<Message> messages_;  // reused across requests: no steady-state allocation
  bool final_ = false;
  uint32_t misuse_ = 0;
};

}  // namespace traverse::api
