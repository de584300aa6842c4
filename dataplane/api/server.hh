// The dataplane's end of the API: serves one control-plane client at a time
// over a unix socket and a fresh segment, answers every request exactly once
// (bad ones from validate(), without the handler), posts events. Control
// thread only: poll() and post_event() from that one thread, never a worker.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dataplane/api/handshake.hh"
#include "dataplane/api/messages.hh"
#include "dataplane/api/reply_sink.hh"
#include "dataplane/api/ring.hh"
#include "dataplane/api/segment.hh"
#include "dataplane/api/unique_fd.hh"

namespace traverse::api {

// What the dataplane does with a valid request. The control path, not per
// packet: one virtual call per request.
class Handler {
 public:
  virtual ~Handler() = default;
  // `request` passed validate(). Write exactly one final answer to `out`
  // (reply(), sa_counters(), sa_list_page(), or counters pages ending with
  // more == 0); the server supplies an internal error if none is written.
  virtual void on_request(const Message& request, ReplySink& out) = 0;
  // A client attached (fresh segment) or went away (process died or closed).
  virtual void on_client_connected() {}
  virtual void on_client_disconnected() {}
};

struct ServerConfig {
  std::string socket_path;  // parent directories are created 0700 if missing
  SegmentConfig segment;
  // Only this uid may connect (SO_PEERCRED); -1 means the dataplane's own euid.
  int64_t allowed_uid = -1;
  uint32_t max_requests_per_poll = 64;  // bounds the time one poll() takes
  // Where log lines go (control thread, not per packet); stderr when empty.
  std::function<void(std::string_view)> log;
};

struct ServerCounters {
  uint64_t requests = 0;
  std::array<uint64_t, kReplyStatusCount> bad_requests{};  // by ReplyStatus from validate()
  uint64_t answers = 0;                                    // messages pushed to the reply ring
  uint64_t handler_errors = 0;  // no final answer, extra answers, wrong kind
  uint64_t events_posted = 0;
  uint64_t events_dropped_full = 0;       // event ring full: client not reading
  uint64_t events_dropped_no_client = 0;  // nobody connected
  uint64_t clients_accepted = 0;
  uint64_t clients_rejected = 0;  // busy, wrong uid or setup failure
  uint64_t clients_disconnected = 0;
  uint64_t ring_corruptions = 0;  // the client broke a ring: it was dropped

  uint64_t bad_requests_total() const;
  uint64_t events_dropped() const { return events_dropped_full + events_dropped_no_client; }
  // Every counter by name (for the dataplane's counters pages and traversectl).
  void visit(const std::function<void(std::string_view name, uint64_t value)>& f) const;
};

class ApiServer {
 public:
  explicit ApiServer(ServerConfig config);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  ~ApiServer();  // drops the client, closes and removes the socket file

  // Creates the directory, replaces a stale socket file, binds and listens.
  // "" on success, otherwise a sentence naming the path and the cause.
  [[nodiscard]] std::string start();

  // Non-blocking: notices a departed client, accepts (or refuses) new ones,
  // handles up to max_requests_per_poll requests and moves answers to the
  // reply ring. Returns how many requests it handled, so an idle caller can
  // sleep.
  uint32_t poll(Handler& handler);

  // Pushes an event for the client; false (and counted) when there is no
  // client or its event ring is full.
  bool post_event(const Event& event);
  // Sleeps until the client rings (it sends a byte after each request), a
  // connection arrives, or `timeout` passes: the caller's idle pause that
  // still answers a request within microseconds instead of a poll period.
  void wait(std::chrono::microseconds timeout);

  bool has_client() const { return client_.valid(); }
  pid_t client_pid() const { return client_pid_; }
  const ServerCounters& counters() const { return counters_; }
  const std::string& socket_path() const { return config_.socket_path; }

 private:
  void check_client(short revents);
  void accept_clients(Handler& handler);
  void accept_one(UniqueFd sock, Handler& handler);
  void refuse(UniqueFd sock, GreetingStatus status, pid_t pid, uid_t uid, const std::string& why);
  void drop_client(Handler& handler, const char* why);
  bool drain_answers(Handler& handler);
  // One byte to the client after answers or events were pushed, so a client
  // blocked in poll() on its socket wakes at once (bytes are only a signal).
  void ring_client();
  void handle(const Message& request, Handler& handler);
  void log(const std::string& line) const;

  ServerConfig config_;
  uid_t allowed_uid_ = 0;
  UniqueFd listen_;
  dev_t socket_dev_ = 0;  // identify our socket file, so we only ever unlink ours
  ino_t socket_ino_ = 0;

  UniqueFd client_;
  pid_t client_pid_ = 0;
  const char* drop_reason_ = nullptr;  // set where no Handler is at hand; poll() drops
  Segment segment_;
  RingReader requests_;
  RingWriter replies_;
  RingWriter events_;

  ReplySink sink_;
  std::size_t sink_sent_ = 0;  // answers of the current request already in the ring
  bool sink_pending_ = false;
  uint32_t bad_logged_ = 0;  // per client: log the first few bad requests only

  ServerCounters counters_;
};

}  // namespace traverse::api
