// The control plane's end of the API (tests and tools use it too): connects,
// maps the session's segment, sends requests and waits for their answers
// (brief spin, then sleeps with backoff), drains events; errors are values.
// One thread per ApiClient; the dataplane serves one client at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/api/messages.hh"
#include "dataplane/api/ring.hh"
#include "dataplane/api/segment.hh"
#include "dataplane/api/unique_fd.hh"

namespace traverse::api {

enum class CallStatus : uint8_t {
  ok,              // an answer arrived: see reply.status for the dataplane's verdict
  not_connected,   // connect() first (or again, after the dataplane went away)
  timeout,         // no answer in time; the request may still take effect later
  dataplane_gone,  // the dataplane process closed the socket (exited, restarted)
  protocol,        // a malformed or unexpected answer, or a corrupted ring
};
const char* call_status_name(CallStatus s);

struct CallResult {
  CallStatus call = CallStatus::not_connected;
  Reply reply{};      // the final Reply; a synthesized ok one for typed answers
  std::string error;  // what went wrong when call != ok
  bool ok() const { return call == CallStatus::ok && reply.status == ReplyStatus::ok; }
  std::string describe() const;  // one line for logs: "ok", "bad_field: sa.ttl is 0", ...
};
struct CountersResult : CallResult {
  std::vector<NamedCounter> counters;  // every page, in order
};
struct SaCountersResult : CallResult {
  SaCounters counters{};
};
struct SaListResult : CallResult {
  std::vector<SaRef> sas;  // every page, in order
};
struct RawResult : CallResult {
  std::vector<Message> answers;  // everything the request produced, final one last
};

struct ClientStats {
  uint64_t requests = 0;
  uint64_t answers = 0;
  uint64_t stale_answers = 0;  // answers to requests that had timed out: discarded
  uint64_t bad_answers = 0;    // failed validate_answer()
  uint64_t events = 0;
  uint64_t bad_events = 0;
};

class ApiClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{2000};

  ApiClient() = default;
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;
  ~ApiClient() = default;

  // Connects (retrying while the socket does not exist yet or refuses, until
  // `timeout`), receives the segment and attaches its rings. "" on success,
  // otherwise why, e.g. that another control client is connected.
  [[nodiscard]] std::string connect(const std::string& path, std::chrono::milliseconds timeout);
  void disconnect();
  bool connected() const { return sock_.valid(); }
  pid_t dataplane_pid() const { return dataplane_pid_; }
  // Per request (for paged calls: per page).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  CallResult hello();  // reply.value: the dataplane's SA limit
  CallResult add_sa(const SaRecord& sa);
  CallResult update_sa(const SaRecord& sa);
  CallResult delete_sa(SaRef sa);
  CallResult add_policy(const PolicyRecord& policy);
  CallResult delete_policy(const PolicyRecord& policy);
  CountersResult counters();               // ports and drop reasons: all pages
  SaCountersResult sa_counters(SaRef sa);  // one SA
  SaListResult list_sas();                 // every installed SA, page by page

  // Sends `request` as it is (tests and tools may send anything) except for
  // the request id, which is assigned; waits for its final answer.
  RawResult call(const Message& request);

  // Takes the next event, if any. Malformed events are counted and skipped.
  bool next_event(Event* out);
  template <typename F>
  std::size_t poll_events(F&& on_event, std::size_t max = SIZE_MAX) {
    std::size_t n = 0;
    Event e{};
    while (n < max && next_event(&e)) {
      on_event(e);
      ++n;
    }
    return n;
  }

  uint64_t last_request_id() const { return next_id_; }
  const ClientStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }  // why it disconnected

 private:
  using Clock = std::chrono::steady_clock;
  RawResult exchange(Message request);
  CallResult simple(MessageType type, const void* body, std::size_t size);
  // Doorbells over the socket (ApiServer::wait / ring_client): one byte
  // after each request; replies wake a caller sleeping in poll().
  void ring_dataplane();
  void wait_for_bell(std::chrono::milliseconds slice);
  CallStatus push(const Message& request, Clock::time_point deadline, std::string* error);
  CallStatus pop(uint64_t id, Clock::time_point deadline, Message* out, std::string* error);
  bool peer_alive();
  void lose(const std::string& why);

  UniqueFd sock_;
  Segment segment_;
  RingWriter requests_;
  RingReader replies_;
  RingReader events_;
  pid_t dataplane_pid_ = 0;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
  uint64_t next_id_ = 0;  // never reset: ids keep increasing across reconnects
  ClientStats stats_;
  std::string last_error_;
};

}  // namespace traverse::api
