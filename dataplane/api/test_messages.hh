// Well-formed messages for the API tests and the fuzzer's seed corpus: one
// good record per kind, which a test then breaks one field at a time.
// Plain functions, no state.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/api/messages.hh"

namespace traverse::api::testing {

// A valid SA for `transform` (0..4), with keys of the right lengths.
SaRecord good_sa(uint8_t transform, Direction direction = Direction::outbound,
                 uint8_t ip_version = 4);
PolicyRecord good_policy(uint8_t ip_version = 4);
Address address(uint8_t version, uint8_t prefix_len, uint8_t last_byte);

// A request with a correct header (request_id 0) and `body` copied in.
Message request(MessageType type, const void* body = nullptr, std::size_t size = 0);
template <typename T>
Message request(MessageType type, const T& body) {
  return request(type, &body, sizeof body);
}

// One valid message of every request kind, named for the corpus files.
std::vector<std::pair<std::string, Message>> seed_messages();

}  // namespace traverse::api::testing
