#include "dataplane/api/client.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "dataplane/api/backoff.hh"
#include "dataplane/api/handshake.hh"
#include "dataplane/api/sys_error.hh"
#include "dataplane/api/validate.hh"

namespace traverse::api {
namespace {

Message make_request(MessageType type, const void* body, std::size_t size) {
  Message m{};
  m.header.version = kApiVersion;
  m.header.type = type;
  m.header.length = static_cast<uint32_t>(size);
  if (size != 0) {
    std::memcpy(m.body.raw, body, size);
  }
  return m;
}

// The answer that ends a request: everything but a counters page with more.
bool is_final(const Message& m) {
  return m.header.type != MessageType::counters_reply || m.body.counters_page.more == 0;
}

// Which answers a request may get; anything else means the two sides disagree.
bool answer_fits(MessageType request, MessageType answer) {
  if (answer == MessageType::reply) {
    return true;
  }
  if (request == MessageType::counters_get) {
    return answer == MessageType::counters_reply || answer == MessageType::sa_counters_reply;
  }
  return request == MessageType::sa_list && answer == MessageType::sa_list_reply;
}

}  // namespace

const char* call_status_name(CallStatus s) {
  switch (s) {
    case CallStatus::ok:
      return "ok";
    case CallStatus::not_connected:
      return "not_connected";
    case CallStatus::timeout:
      return "timeout";
    case CallStatus::dataplane_gone:
      return "dataplane_gone";
    case CallStatus::protocol:
      return "protocol";
  }
  return "unknown";
}

std::string CallResult::describe() const {
  if (call != CallStatus::ok) {
    return std::string(call_status_name(call)) + ": " + error;
  }
  std::string s = reply_status_name(reply.status);
  if (reply.detail[0] != '\0') {
    s += ": ";
    s += reply.detail;
  }
  return s;
}

std::string ApiClient::connect(const std::string& path, std::chrono::milliseconds timeout) {
  disconnect();
  const auto deadline = Clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return "dataplane socket path '" + path + "' is empty or too long";
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  UniqueFd sock;
  for (;;) {
    sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock.valid()) {
      return std::string("cannot create a socket: ") + errno_text(errno);
    }
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      break;
    }
    const int e = errno;
    // Not there yet, or its backlog is full: the dataplane may be starting.
    if ((e == ENOENT || e == ECONNREFUSED || e == EAGAIN) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    return "cannot connect to the dataplane at " + path + ": " + errno_text(e);
  }

  Greeting greeting{};
  UniqueFd memfd;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (std::string e = receive_greeting(sock.get(), left, &greeting, &memfd); !e.empty()) {
    return e + " (" + path + ")";
  }
  if (greeting.status != GreetingStatus::accepted) {
    return "the dataplane at " + path + " refused this client: " + greeting.text;
  }
  if (!memfd.valid()) {
    return "the dataplane at " + path + " sent no shared segment";
  }
  Segment segment;
  if (const SegmentStatus s = Segment::attach(std::move(memfd), &segment); !s.ok()) {
    return std::string("the dataplane's shared segment is unusable: ") +
           segment_error_name(s.error) +
           (s.sys_errno != 0 ? std::string(": ") + errno_text(s.sys_errno) : std::string{});
  }
  segment.close_fd();
  segment_ = std::move(segment);
  const RingError e1 = requests_.attach(segment_.ring_memory(RingKind::request),
                                        segment_.ring_size(RingKind::request));
  const RingError e2 =
      replies_.attach(segment_.ring_memory(RingKind::reply), segment_.ring_size(RingKind::reply));
  const RingError e3 =
      events_.attach(segment_.ring_memory(RingKind::event), segment_.ring_size(RingKind::event));
  for (RingError e : {e1, e2, e3}) {
    if (e != RingError::none) {
      disconnect();
      return std::string("the dataplane's shared segment is unusable: ") + ring_error_name(e);
    }
  }
  sock_ = std::move(sock);
  dataplane_pid_ = static_cast<pid_t>(greeting.server_pid);
  last_error_.clear();
  return {};
}

void ApiClient::disconnect() {
  requests_.detach();
  replies_.detach();
  events_.detach();
  segment_.reset();
  sock_.reset();
  dataplane_pid_ = 0;
}

void ApiClient::lose(const std::string& why) {
  last_error_ = why;
  disconnect();
}

bool ApiClient::peer_alive() {
  pollfd p{sock_.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) {
    return true;
  }
  if ((p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) != 0) {
    return false;
  }
  // Only doorbell bytes come after the greeting; discard them, look for EOF.
  char buf[256];
  const ssize_t n = ::recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
  return n != 0;
}

CallStatus ApiClient::push(const Message& request, Clock::time_point deadline, std::string* error) {
  Backoff backoff;
  for (;;) {
    const RingStatus s = requests_.try_push(request);
    if (s == RingStatus::ok) {
      ++stats_.requests;
      return CallStatus::ok;
    }
    if (s != RingStatus::full) {
      *error = std::string("request ring ") + ring_status_name(s);
      lose(*error);
      return CallStatus::protocol;
    }
    if (Clock::now() >= deadline) {
      *error = "request ring full: the dataplane is not reading requests";
      return CallStatus::timeout;
    }
    if (backoff.sleeping() && !peer_alive()) {
      *error = "the dataplane (pid " + std::to_string(dataplane_pid_) + ") went away";
      lose(*error);
      return CallStatus::dataplane_gone;
    }
    backoff.wait();
  }
}

CallStatus ApiClient::pop(uint64_t id, Clock::time_point deadline, Message* out,
                          std::string* error) {
  Backoff backoff;
  bool last_look = false;  // after the peer vanished: drain what it left, then give up
  for (;;) {
    const RingStatus s = replies_.try_pop(out);
    if (s == RingStatus::ok) {
      char detail[sizeof(Reply::detail)];
      if (validate_answer(*out, detail, sizeof detail) != ReplyStatus::ok) {
        ++stats_.bad_answers;
        *error = std::string("malformed answer from the dataplane: ") + detail;
        return CallStatus::protocol;
      }
      if (out->header.request_id < id) {
        ++stats_.stale_answers;  // belongs to a request that timed out
        backoff.reset();
        continue;
      }
      if (out->header.request_id > id || out->header.type == MessageType::event) {
        ++stats_.bad_answers;
        *error = "answer for request id " + std::to_string(out->header.request_id) +
                 " while waiting for " + std::to_string(id);
        return CallStatus::protocol;
      }
      ++stats_.answers;
      return CallStatus::ok;
    }
    if (s != RingStatus::empty) {
      *error = std::string("reply ring ") + ring_status_name(s);
      lose(*error);
      return CallStatus::protocol;
    }
    if (last_look) {
      *error = "the dataplane (pid " + std::to_string(dataplane_pid_) + ") went away";
      lose(*error);
      return CallStatus::dataplane_gone;
    }
    if (Clock::now() >= deadline) {
      *error = "no answer to request id " + std::to_string(id) + " within " +
               std::to_string(timeout_.count()) + " ms";
      return CallStatus::timeout;
    }
    if (backoff.sleeping() && !peer_alive()) {
      last_look = true;
      continue;
    }
    if (!backoff.sleeping()) {
      backoff.wait();
      continue;
    }
    // The dataplane rings after it answers: sleep in poll() until then (or
    // a slice of the deadline, to look at the ring and the peer again).
    wait_for_bell(std::chrono::milliseconds(1));
  }
}

void ApiClient::ring_dataplane() {
  const char bell = 1;
  // Never blocks: a full socket buffer already holds unread bells.
  (void)::send(sock_.get(), &bell, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void ApiClient::wait_for_bell(std::chrono::milliseconds slice) {
  pollfd p{sock_.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(slice.count())) > 0 && (p.revents & POLLIN) != 0) {
    char bells[256];
    while (::recv(sock_.get(), bells, sizeof bells, MSG_DONTWAIT) > 0) {
    }
  }
}

RawResult ApiClient::exchange(Message request) {
  RawResult result;
  if (!connected()) {
    result.call = CallStatus::not_connected;
    result.error = last_error_.empty() ? "not connected to the dataplane"
                                       : "not connected to the dataplane: " + last_error_;
    return result;
  }
  const auto deadline = Clock::now() + timeout_;
  request.header.request_id = ++next_id_;
  result.call = push(request, deadline, &result.error);
  if (result.call == CallStatus::ok) {
    ring_dataplane();
  }
  // The local copy may carry SA keys; only the header is needed from here on.
  explicit_bzero(&request.body, sizeof request.body);
  while (result.call == CallStatus::ok) {
    Message answer{};
    result.call = pop(request.header.request_id, deadline, &answer, &result.error);
    if (result.call != CallStatus::ok) {
      break;
    }
    if (!answer_fits(request.header.type, answer.header.type)) {
      result.call = CallStatus::protocol;
      result.error = std::string("the dataplane answered ") +
                     message_type_name(request.header.type) + " with " +
                     message_type_name(answer.header.type);
      break;
    }
    result.answers.push_back(answer);
    if (is_final(answer)) {
      if (answer.header.type == MessageType::reply) {
        result.reply = answer.body.reply;
      }
      break;
    }
  }
  return result;
}

RawResult ApiClient::call(const Message& request) {
  return exchange(request);
}

CallResult ApiClient::simple(MessageType type, const void* body, std::size_t size) {
  RawResult r = exchange(make_request(type, body, size));
  return std::move(static_cast<CallResult&>(r));
}

CallResult ApiClient::hello() {
  return simple(MessageType::hello, nullptr, 0);
}
CallResult ApiClient::add_sa(const SaRecord& sa) {
  return simple(MessageType::sa_add, &sa, sizeof sa);
}
CallResult ApiClient::update_sa(const SaRecord& sa) {
  return simple(MessageType::sa_update, &sa, sizeof sa);
}
CallResult ApiClient::delete_sa(SaRef sa) {
  return simple(MessageType::sa_delete, &sa, sizeof sa);
}
CallResult ApiClient::add_policy(const PolicyRecord& policy) {
  return simple(MessageType::policy_add, &policy, sizeof policy);
}
CallResult ApiClient::delete_policy(const PolicyRecord& policy) {
  return simple(MessageType::policy_delete, &policy, sizeof policy);
}

CountersResult ApiClient::counters() {
  CountersQuery q{};
  q.scope = kCountersScopeGlobal;
  RawResult r = exchange(make_request(MessageType::counters_get, &q, sizeof q));
  CountersResult out;
  static_cast<CallResult&>(out) = std::move(static_cast<CallResult&>(r));
  for (const Message& m : r.answers) {
    if (m.header.type == MessageType::counters_reply) {
      const CountersPage& page = m.body.counters_page;
      out.counters.insert(out.counters.end(), page.counters, page.counters + page.count);
    } else if (m.header.type == MessageType::sa_counters_reply) {
      out.call = CallStatus::protocol;
      out.error = "the dataplane answered a global counters query with one SA's counters";
    }
  }
  return out;
}

SaCountersResult ApiClient::sa_counters(SaRef sa) {
  CountersQuery q{};
  q.scope = kCountersScopeSa;
  q.sa = sa;
  RawResult r = exchange(make_request(MessageType::counters_get, &q, sizeof q));
  SaCountersResult out;
  static_cast<CallResult&>(out) = std::move(static_cast<CallResult&>(r));
  if (out.call == CallStatus::ok && !r.answers.empty()) {
    const Message& last = r.answers.back();
    if (last.header.type == MessageType::sa_counters_reply) {
      out.counters = last.body.sa_counters;
    } else if (last.header.type != MessageType::reply) {
      out.call = CallStatus::protocol;
      out.error = "the dataplane answered an SA counters query with counter pages";
    }
  }
  return out;
}

SaListResult ApiClient::list_sas() {
  SaListResult out;
  ListQuery q{};
  for (;;) {
    RawResult r = exchange(make_request(MessageType::sa_list, &q, sizeof q));
    static_cast<CallResult&>(out) = std::move(static_cast<CallResult&>(r));
    if (out.call != CallStatus::ok || r.answers.back().header.type != MessageType::sa_list_reply) {
      return out;  // transport failure or an error Reply
    }
    const SaListPage& page = r.answers.back().body.sa_list;
    out.sas.insert(out.sas.end(), page.sas, page.sas + page.count);
    if (page.more == 0) {
      return out;
    }
    // Each page must move forward, or a confused dataplane would loop us forever.
    if (page.next_index <= q.start_index) {
      out.call = CallStatus::protocol;
      out.error =
          "sa_list page did not advance (next_index " + std::to_string(page.next_index) + ")";
      return out;
    }
    q.start_index = page.next_index;
  }
}

bool ApiClient::next_event(Event* out) {
  if (!connected()) {
    return false;
  }
  for (;;) {
    Message m{};
    const RingStatus s = events_.try_pop(&m);
    if (s == RingStatus::empty) {
      return false;
    }
    if (s != RingStatus::ok) {
      lose(std::string("event ring ") + ring_status_name(s));
      return false;
    }
    char detail[sizeof(Reply::detail)];
    if (m.header.type != MessageType::event ||
        validate_answer(m, detail, sizeof detail) != ReplyStatus::ok) {
      ++stats_.bad_events;
      continue;
    }
    ++stats_.events;
    *out = m.body.event;
    return true;
  }
}

}  // namespace traverse::api
