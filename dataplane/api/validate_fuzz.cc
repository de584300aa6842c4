// libFuzzer target for validate() and validate_answer(): any bytes become a
// Message (short inputs zero-padded) and both checks must return without
// reading out of bounds, leave a NUL-terminated detail, and only pass what
// the schema allows. Built only with clang (see meson.build).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/api/messages.hh"
#include "dataplane/api/validate.hh"

using traverse::api::Message;
using traverse::api::ReplyStatus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Message m;
  std::memset(&m, 0, sizeof m);
  if (size != 0) {
    std::memcpy(&m, data, size < sizeof m ? size : sizeof m);
  }

  // Exactly as large as Reply::detail, on the heap so ASan sees its edges.
  char* detail = static_cast<char*>(std::malloc(sizeof m.body.reply.detail));
  const ReplyStatus s = traverse::api::validate(m, detail, sizeof m.body.reply.detail);
  if (std::memchr(detail, '\0', sizeof m.body.reply.detail) == nullptr) {
    std::abort();
  }
  if (s == ReplyStatus::ok) {
    // What passes must be a request of exactly the right size.
    const auto length = traverse::api::request_body_length(m.header.type);
    if (!length || *length != m.header.length || detail[0] != '\0') {
      std::abort();
    }
  }
  traverse::api::validate_answer(m, detail, sizeof m.body.reply.detail);
  if (std::memchr(detail, '\0', sizeof m.body.reply.detail) == nullptr) {
    std::abort();
  }
  // Tiny buffers: truncation must still terminate.
  char one = 'x';
  traverse::api::validate(m, &one, 1);
  if (one != '\0') {
    std::abort();
  }
  traverse::api::validate(m, nullptr, 0);
  std::free(detail);
  return 0;
}
