// errno as text for log lines and error strings. strerror() shares one buffer
// between threads; this uses strerror_r, so any thread may call it.
#pragma once

#include <cstring>
#include <string>

namespace traverse::api {

inline std::string errno_text(int error) {
  char buf[128];
  // GNU strerror_r: returns either buf or a static string.
  return ::strerror_r(error, buf, sizeof buf);
}

}  // namespace traverse::api
