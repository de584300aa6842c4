// The rings across two real processes: the child attaches the memfd it
// inherits (as the control plane attaches the one it receives), streams a
// million numbered messages to the parent, and checks the parent's echoes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "dataplane/api/ring.hh"
#include "dataplane/api/segment.hh"

namespace traverse::api {
namespace {

constexpr uint64_t kMessages = 1'000'000;

Message numbered(uint64_t n) {
  Message m;
  std::memset(&m, 0, sizeof m);
  m.header.request_id = n;
  for (std::size_t i = 0; i < sizeof m.body.raw; i += 8) {
    const uint64_t v = n * 0x9e3779b97f4a7c15ull + i;
    std::memcpy(m.body.raw + i, &v, 8);
  }
  return m;
}

bool intact(const Message& m, uint64_t n) {
  const Message want = numbered(n);
  return std::memcmp(&m, &want, sizeof m) == 0;
}

// The child: push everything on the request ring, verify every echo on the
// reply ring. Exit code 0 only if all came back intact and in order.
[[noreturn]] void child_main(int fd) {
  Segment segment;
  if (!Segment::attach(UniqueFd(fd), &segment).ok()) {
    _exit(10);
  }
  RingWriter out;
  RingReader in;
  if (out.attach(segment.ring_memory(RingKind::request), segment.ring_size(RingKind::request)) !=
          RingError::none ||
      in.attach(segment.ring_memory(RingKind::reply), segment.ring_size(RingKind::reply)) !=
          RingError::none) {
    _exit(11);
  }
  uint64_t sent = 0;
  uint64_t echoed = 0;
  Message m;
  while (echoed < kMessages) {
    bool progress = false;
    if (sent < kMessages) {
      const RingStatus s = out.try_push(numbered(sent));
      if (s == RingStatus::ok) {
        ++sent;
        progress = true;
      } else if (s != RingStatus::full) {
        _exit(12);
      }
    }
    const RingStatus s = in.try_pop(&m);
    if (s == RingStatus::ok) {
      if (!intact(m, echoed)) {
        _exit(13);
      }
      ++echoed;
      progress = true;
    } else if (s != RingStatus::empty) {
      _exit(14);
    }
    if (!progress) {
      std::this_thread::yield();
    }
  }
  _exit(0);
}

TEST(RingProcess, MillionMessagesEchoedAcrossFork) {
  Segment segment;
  ASSERT_TRUE(Segment::create({}, &segment).ok());
  const int child_fd = ::dup(segment.fd());
  ASSERT_GE(child_fd, 0);
  segment.close_fd();  // the parent uses its mapping; the child maps its own

  RingReader in;
  RingWriter out;
  ASSERT_EQ(in.attach(segment.ring_memory(RingKind::request), segment.ring_size(RingKind::request)),
            RingError::none);
  ASSERT_EQ(out.attach(segment.ring_memory(RingKind::reply), segment.ring_size(RingKind::reply)),
            RingError::none);

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    child_main(child_fd);
  }
  ::close(child_fd);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  uint64_t received = 0;
  uint64_t damaged = 0;
  bool pending = false;
  Message m;
  while (received < kMessages && std::chrono::steady_clock::now() < deadline) {
    if (!pending) {
      const RingStatus s = in.try_pop(&m);
      if (s == RingStatus::empty) {
        std::this_thread::yield();
        continue;
      }
      ASSERT_EQ(s, RingStatus::ok);
      damaged += intact(m, received) ? 0 : 1;
      pending = true;
    }
    const RingStatus s = out.try_push(m);
    if (s == RingStatus::ok) {
      pending = false;
      ++received;
    } else {
      ASSERT_EQ(s, RingStatus::full);
      std::this_thread::yield();
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(received, kMessages);
  EXPECT_EQ(damaged, 0u);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace traverse::api
