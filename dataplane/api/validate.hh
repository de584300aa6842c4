// Schema checks before anyone acts on a message: validate() for requests (the
// dataplane, on every request), validate_answer() for replies and events (the
// client). Pure functions, no state, any thread; what the fuzzer drives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "dataplane/api/messages.hh"

namespace traverse::api {

// The body length a message type must carry, or nothing for a type that is
// not a request (resp. not something the dataplane sends).
std::optional<uint32_t> request_body_length(MessageType type);
std::optional<uint32_t> answer_body_length(MessageType type);
const char* message_type_name(MessageType type);  // "unknown" for others

// ok, or what is wrong: bad_version, unknown_type, bad_length or bad_field.
// `detail` (may be null or 0 bytes) gets a NUL-terminated sentence naming the
// field, e.g. "sa.cipher_key_len is 16, aes256gcm16 needs 32".
ReplyStatus validate(const Message& request, char* detail, std::size_t detail_size);

// The same for replies, pages and events (dataplane -> control): version,
// type, length, page counts within their arrays, NUL-terminated detail.
ReplyStatus validate_answer(const Message& answer, char* detail, std::size_t detail_size);

}  // namespace traverse::api
