#include "dataplane/api/server.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "dataplane/api/sys_error.hh"
#include "dataplane/api/validate.hh"

namespace traverse::api {
namespace {

constexpr uint32_t kBadRequestsLogged = 16;  // per client; the rest are counted only

bool make_address(const std::string& path, sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) {
    return false;
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// mkdir -p for the socket's directory. What we create is 0700 (umask can only
// narrow it): the socket is reachable by its owner alone even before chmod.
std::string make_parent_dirs(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return {};
  }
  const std::string dir = path.substr(0, slash);
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') {
      continue;
    }
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create directory " + part + " for the API socket: " + errno_text(errno);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "API socket directory " + dir + " is not a directory";
  }
  return {};
}

// A socket file nobody listens on is left over from a dataplane that died:
// replace it. A live one means another dataplane: refuse rather than steal it.
// Anything that is not a socket is not ours to delete.
std::string remove_stale_socket(const std::string& path, const sockaddr_un& addr,
                                std::string* note) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::string{}
                           : "cannot stat API socket path " + path + ": " + errno_text(errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return "API socket path " + path + " exists and is not a socket; refusing to replace it";
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe.valid()) {
    return "cannot create a socket: " + errno_text(errno);
  }
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ||
      errno == EAGAIN) {
    return "another dataplane is already listening on " + path;
  }
  if (errno != ECONNREFUSED && errno != ENOENT) {
    return "cannot probe the existing API socket " + path + ": " + errno_text(errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove the stale API socket " + path + ": " + errno_text(errno);
  }
  *note = "api: replaced stale socket file " + path;
  return {};
}

}  // namespace

uint64_t ServerCounters::bad_requests_total() const {
  uint64_t total = 0;
  for (uint64_t v : bad_requests) {
    total += v;
  }
  return total;
}

void ServerCounters::visit(
    const std::function<void(std::string_view name, uint64_t value)>& f) const {
  f("api_requests", requests);
  for (std::size_t i = 1; i < bad_requests.size(); ++i) {
    const std::string name =
        std::string("api_bad_requests_") + reply_status_name(static_cast<ReplyStatus>(i));
    f(name, bad_requests[i]);
  }
  f("api_answers", answers);
  f("api_handler_errors", handler_errors);
  f("api_events_posted", events_posted);
  f("api_events_dropped_full", events_dropped_full);
  f("api_events_dropped_no_client", events_dropped_no_client);
  f("api_clients_accepted", clients_accepted);
  f("api_clients_rejected", clients_rejected);
  f("api_clients_disconnected", clients_disconnected);
  f("api_ring_corruptions", ring_corruptions);
}

ApiServer::ApiServer(ServerConfig config) : config_(std::move(config)) {
  allowed_uid_ = config_.allowed_uid < 0 ? ::geteuid() : static_cast<uid_t>(config_.allowed_uid);
}

ApiServer::~ApiServer() {
  if (!listen_.valid()) {
    return;
  }
  listen_.reset();
  // Remove the file only if it is still the one we bound: a successor may
  // already have replaced it.
  struct stat st {};
  if (::lstat(config_.socket_path.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
      st.st_ino == socket_ino_) {
    ::unlink(config_.socket_path.c_str());
  }
}

void ApiServer::log(const std::string& line) const {
  if (config_.log) {
    config_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

std::string ApiServer::start() {
  if (listen_.valid()) {
    return "API server already listening on " + config_.socket_path;
  }
  const std::string& path = config_.socket_path;
  sockaddr_un addr{};
  if (!make_address(path, &addr)) {
    return "API socket path '" + path + "' is empty or longer than " +
           std::to_string(sizeof addr.sun_path - 1) + " bytes";
  }
  if (std::string e = make_parent_dirs(path); !e.empty()) {
    return e;
  }
  std::string note;
  if (std::string e = remove_stale_socket(path, addr, &note); !e.empty()) {
    return e;
  }
  if (!note.empty()) {
    log(note);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return "cannot create the API socket: " + errno_text(errno);
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return "cannot bind the API socket " + path + ": " + errno_text(errno);
  }
  // Owner-only. SO_PEERCRED is checked on every accept as well, so the short
  // window between bind and chmod grants nothing.
  struct stat st {};
  if (::chmod(path.c_str(), 0600) != 0 || ::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    ::unlink(path.c_str());
    return "cannot set mode 0600 on the API socket " + path + ": " + errno_text(e);
  }
  if (::listen(fd.get(), 8) != 0) {
    const int e = errno;
    ::unlink(path.c_str());
    return "cannot listen on the API socket " + path + ": " + errno_text(e);
  }
  socket_dev_ = st.st_dev;
  socket_ino_ = st.st_ino;
  listen_ = std::move(fd);
  log("api: listening on " + path + " (uid " + std::to_string(allowed_uid_) + " only)");
  return {};
}

uint32_t ApiServer::poll(Handler& handler) {
  if (!listen_.valid()) {
    return 0;
  }
  // One syscall per call for both sockets; the rings need none.
  pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {client_.get(), POLLIN | POLLRDHUP, 0}};
  const nfds_t n = client_.valid() ? 2 : 1;
  if (::poll(fds, n, 0) > 0 && n == 2) {
    check_client(fds[1].revents);
  }
  // A departed client is dropped before accepting, so its successor (a
  // restarted control plane) is not refused as a second client.
  if (drop_reason_ != nullptr) {
    drop_client(handler, drop_reason_);
  }
  if ((fds[0].revents & POLLIN) != 0) {
    accept_clients(handler);
  }

  uint32_t handled = 0;
  while (client_.valid()) {
    if (!drain_answers(handler) || handled >= config_.max_requests_per_poll) {
      break;  // reply ring full: take no more requests until the client reads
    }
    Message request{};
    const RingStatus s = requests_.try_pop(&request);
    if (s == RingStatus::empty) {
      break;
    }
    if (s != RingStatus::ok) {
      ++counters_.ring_corruptions;
      drop_client(handler, "the client corrupted the request ring");
      break;
    }
    handle(request, handler);
    explicit_bzero(&request, sizeof request);  // it may have carried SA keys
    ++handled;
  }
  if (client_.valid()) {
    drain_answers(handler);
  }
  if (handled != 0) {
    ring_client();
  }
  return handled;
}

void ApiServer::wait(std::chrono::microseconds timeout) {
  pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {client_.get(), POLLIN | POLLRDHUP, 0}};
  const nfds_t n = client_.valid() ? 2 : 1;
  const timespec ts{static_cast<time_t>(timeout.count() / 1000000),
                    static_cast<long>(timeout.count() % 1000000) * 1000};
  // The doorbell bytes stay unread here: poll() reads and discards them.
  ::ppoll(fds, listen_.valid() ? n : 0, &ts, nullptr);
}

void ApiServer::ring_client() {
  if (!client_.valid()) {
    return;
  }
  const char bell = 1;
  // Never blocks: a full socket buffer already holds unread bells.
  (void)::send(client_.get(), &bell, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void ApiServer::check_client(short revents) {
  if ((revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) != 0) {
    drop_reason_ = "the client closed the connection";
    return;
  }
  if ((revents & POLLIN) == 0) {
    return;
  }
  // Only doorbell bytes come this way (a request is waiting in the ring);
  // read and discard them (a bounded amount per poll, so a chatty client
  // cannot hold the control thread) and notice EOF.
  char buf[4096];
  for (int i = 0; i < 16; ++i) {
    const ssize_t r = ::recv(client_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0) {
      drop_reason_ = "the client closed the connection";
      return;
    }
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        drop_reason_ = "the client connection failed";
      }
      return;
    }
  }
}

void ApiServer::accept_clients(Handler& handler) {
  // Bounded per poll: a connect storm must not starve the request rings.
  for (int i = 0; i < 16; ++i) {
    UniqueFd sock(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (sock.valid()) {
      accept_one(std::move(sock), handler);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      log("api: accept on " + config_.socket_path + " failed: " + errno_text(errno));
    }
    return;
  }
}

void ApiServer::accept_one(UniqueFd sock, Handler& handler) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    refuse(std::move(sock), GreetingStatus::internal, 0, 0,
           "cannot read peer credentials: " + errno_text(errno));
    return;
  }
  if (cred.uid != allowed_uid_) {
    refuse(std::move(sock), GreetingStatus::not_permitted, cred.pid, cred.uid,
           "uid " + std::to_string(cred.uid) + " is not permitted (only uid " +
               std::to_string(allowed_uid_) + ")");
    return;
  }
  if (client_.valid()) {
    refuse(std::move(sock), GreetingStatus::busy, cred.pid, cred.uid,
           "another control client (pid " + std::to_string(client_pid_) + ") is connected");
    return;
  }
  // A fresh segment per client: nothing a previous client left in the rings
  // (or broke in them) carries over.
  Segment segment;
  const SegmentStatus s = Segment::create(config_.segment, &segment);
  if (!s.ok()) {
    refuse(std::move(sock), GreetingStatus::internal, cred.pid, cred.uid,
           std::string("cannot create the shared segment: ") + segment_error_name(s.error) +
               (s.sys_errno != 0 ? ": " + errno_text(s.sys_errno) : std::string{}));
    return;
  }
  // Attach before the client has the fd: from then on it may write anything,
  // and our private copies of capacity and indices must predate that.
  if (requests_.attach(segment.ring_memory(RingKind::request),
                       segment.ring_size(RingKind::request)) != RingError::none ||
      replies_.attach(segment.ring_memory(RingKind::reply), segment.ring_size(RingKind::reply)) !=
          RingError::none ||
      events_.attach(segment.ring_memory(RingKind::event), segment.ring_size(RingKind::event)) !=
          RingError::none) {
    requests_.detach();
    replies_.detach();
    events_.detach();
    refuse(std::move(sock), GreetingStatus::internal, cred.pid, cred.uid,
           "the new shared segment did not validate");
    return;
  }
  Greeting greeting{};
  greeting.magic = kGreetingMagic;
  greeting.version = kApiVersion;
  greeting.status = GreetingStatus::accepted;
  greeting.server_pid = static_cast<uint32_t>(::getpid());
  if (const int e = send_greeting(sock.get(), greeting, segment.fd()); e != 0) {
    requests_.detach();
    replies_.detach();
    events_.detach();
    ++counters_.clients_rejected;
    log("api: control client pid " + std::to_string(cred.pid) +
        " left during the greeting: " + errno_text(e));
    return;
  }
  segment.close_fd();             // our mapping is all we need; the client has its own fd
  segment_ = std::move(segment);  // the mapping, and so the ring views, stay put
  client_ = std::move(sock);
  client_pid_ = cred.pid;
  sink_pending_ = false;
  bad_logged_ = 0;
  ++counters_.clients_accepted;
  log("api: control client pid " + std::to_string(cred.pid) + " uid " + std::to_string(cred.uid) +
      " connected (segment " + std::to_string(segment_.size()) + " bytes)");
  handler.on_client_connected();
}

void ApiServer::refuse(UniqueFd sock, GreetingStatus status, pid_t pid, uid_t uid,
                       const std::string& why) {
  ++counters_.clients_rejected;
  log("api: refused control client pid " + std::to_string(pid) + " uid " + std::to_string(uid) +
      ": " + why);
  Greeting greeting{};
  greeting.magic = kGreetingMagic;
  greeting.version = kApiVersion;
  greeting.status = status;
  greeting.server_pid = static_cast<uint32_t>(::getpid());
  std::snprintf(greeting.text, sizeof greeting.text, "%s", why.c_str());
  send_greeting(sock.get(), greeting, -1);  // best effort: it is being refused anyway
}

void ApiServer::drop_client(Handler& handler, const char* why) {
  log("api: control client pid " + std::to_string(client_pid_) + " dropped: " + why +
      "; waiting for the next one");
  requests_.detach();
  replies_.detach();
  events_.detach();
  segment_.reset();
  client_.reset();
  client_pid_ = 0;
  sink_pending_ = false;
  drop_reason_ = nullptr;
  ++counters_.clients_disconnected;
  handler.on_client_disconnected();
}

bool ApiServer::drain_answers(Handler& handler) {
  if (!sink_pending_) {
    return true;
  }
  const std::span<const Message> answers = sink_.messages();
  while (sink_sent_ < answers.size()) {
    const RingStatus s = replies_.try_push(answers[sink_sent_]);
    if (s == RingStatus::full) {
      return false;
    }
    if (s != RingStatus::ok) {
      ++counters_.ring_corruptions;
      drop_client(handler, "the client corrupted the reply ring");
      return false;
    }
    ++sink_sent_;
    ++counters_.answers;
  }
  sink_pending_ = false;
  return true;
}

void ApiServer::handle(const Message& request, Handler& handler) {
  ++counters_.requests;
  sink_.begin(request.header);
  sink_sent_ = 0;
  sink_pending_ = true;

  char detail[sizeof(Reply::detail)];
  const ReplyStatus status = validate(request, detail, sizeof detail);
  if (status != ReplyStatus::ok) {
    ++counters_.bad_requests[static_cast<std::size_t>(status)];
    sink_.reply(status, 0, detail);
    if (bad_logged_ < kBadRequestsLogged) {
      ++bad_logged_;
      log("api: bad request id " + std::to_string(request.header.request_id) + " from pid " +
          std::to_string(client_pid_) + ": " + reply_status_name(status) + ": " + detail +
          (bad_logged_ == kBadRequestsLogged ? " (further bad requests are only counted)" : ""));
    }
    return;
  }
  // The handler is the dataplane's own code, but a throw must not take the
  // control thread down or leave the client waiting forever.
  bool threw = false;
  try {
    handler.on_request(request, sink_);
  } catch (const std::exception& e) {
    threw = true;
    log(std::string("api: handler threw on ") + message_type_name(request.header.type) + ": " +
        e.what());
    if (!sink_.final_sent()) {
      sink_.reply(ReplyStatus::internal, 0, "dataplane handler failed");
    }
  } catch (...) {
    threw = true;
    log(std::string("api: handler threw on ") + message_type_name(request.header.type));
    if (!sink_.final_sent()) {
      sink_.reply(ReplyStatus::internal, 0, "dataplane handler failed");
    }
  }
  if (!sink_.finish()) {
    ++counters_.handler_errors;
    log("api: handler answered request id " + std::to_string(request.header.request_id) + " (" +
        message_type_name(request.header.type) + ") " +
        (sink_.misuse() != 0 ? "with extra or mismatched answers (dropped)" : "with nothing"));
  } else if (threw) {
    ++counters_.handler_errors;
  }
}

bool ApiServer::post_event(const Event& event) {
  if (!client_.valid() || drop_reason_ != nullptr) {
    ++counters_.events_dropped_no_client;
    return false;
  }
  Message m{};
  m.header.version = kApiVersion;
  m.header.type = MessageType::event;
  m.header.length = sizeof(Event);
  m.header.request_id = 0;
  m.body.event = event;
  const RingStatus s = events_.try_push(m);
  if (s == RingStatus::ok) {
    ++counters_.events_posted;
    ring_client();
    return true;
  }
  if (s == RingStatus::full) {
    ++counters_.events_dropped_full;
    return false;
  }
  ++counters_.ring_corruptions;
  ++counters_.events_dropped_no_client;
  drop_reason_ = "the client corrupted the event ring";
  return false;
}

}  // namespace traverse::api
