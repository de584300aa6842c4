// The only message on the unix socket: after accept() the dataplane sends a
// Greeting, with the session memfd (SCM_RIGHTS) if it accepts the client or
// with the reason if not; the open socket then only signals liveness.
// Plain functions on fds; as thread-safe as the fds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "dataplane/api/unique_fd.hh"

namespace traverse::api {

inline constexpr uint32_t kGreetingMagic = 0x54525647;  // "GVRT"

enum class GreetingStatus : uint16_t {
  accepted = 0,       // the memfd is attached
  busy = 1,           // another control client is connected
  not_permitted = 2,  // the peer's uid is not the dataplane's
  internal = 3,       // the dataplane could not set up a segment
};

struct Greeting {
  uint32_t magic;
  uint16_t version;  // kApiVersion
  GreetingStatus status;
  uint32_t server_pid;
  uint32_t pad;
  char text[112];  // NUL-terminated: why refused, for the operator
};
static_assert(sizeof(Greeting) == 128);

// Sends `greeting` and, when memfd >= 0, the fd with it. Never raises SIGPIPE.
// Returns 0 or an errno value.
int send_greeting(int sock, const Greeting& greeting, int memfd);

// Waits up to `timeout` for a whole greeting. Returns "" on success (with
// *memfd set when one came along) or what went wrong. Extra fds are closed.
std::string receive_greeting(int sock, std::chrono::milliseconds timeout, Greeting* greeting,
                             UniqueFd* memfd);

}  // namespace traverse::api
