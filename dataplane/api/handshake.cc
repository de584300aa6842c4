#include "dataplane/api/handshake.hh"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "dataplane/api/messages.hh"
#include "dataplane/api/sys_error.hh"

namespace traverse::api {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Takes every fd out of the control messages: the first SCM_RIGHTS fd into
// *memfd (if still empty), the rest closed so a hostile peer cannot make us
// leak descriptors.
void collect_fds(msghdr* msg, UniqueFd* memfd) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < n; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!memfd->valid()) {
        memfd->reset(fd);
      } else {
        ::close(fd);
      }
    }
  }
}

}  // namespace

int send_greeting(int sock, const Greeting& greeting, int memfd) {
  iovec iov{const_cast<Greeting*>(&greeting), sizeof greeting};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (memfd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &memfd, sizeof memfd);
  }
  ssize_t n = 0;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno;
  }
  // 128 bytes into a fresh unix socket fit its buffer whole; anything else
  // means the peer is not reading a greeting.
  return n == static_cast<ssize_t>(sizeof greeting) ? 0 : EMSGSIZE;
}

std::string receive_greeting(int sock, std::chrono::milliseconds timeout, Greeting* greeting,
                             UniqueFd* memfd) {
  const auto deadline = Clock::now() + timeout;
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(greeting);
  while (got < sizeof(Greeting)) {
    pollfd p{sock, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return std::string("poll on the dataplane socket failed: ") + errno_text(errno);
    }
    if (ready == 0) {
      return "no greeting from the dataplane within the timeout";
    }
    iovec iov{bytes + got, sizeof(Greeting) - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n < 0) {
      return std::string("reading the dataplane greeting failed: ") + errno_text(errno);
    }
    collect_fds(&msg, memfd);
    if (n == 0) {
      return "the dataplane closed the connection before greeting";
    }
    got += static_cast<std::size_t>(n);
  }
  if (greeting->magic != kGreetingMagic) {
    return "the peer on the socket is not a Traverse dataplane (bad greeting)";
  }
  greeting->text[sizeof greeting->text - 1] = '\0';
  if (greeting->version != kApiVersion) {
    return "the dataplane speaks API version " + std::to_string(greeting->version) +
           ", this program " + std::to_string(kApiVersion);
  }
  return {};
}

}  // namespace traverse::api
