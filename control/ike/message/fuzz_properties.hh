// Properties the fuzzers check and the corpus test replays: parsing never
// misbehaves, build(parse(x)) parses back to the same structure, and the
// reassembler stays within its bounds. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "control/ike/bytes.hh"

namespace traverse::ike::fuzzing {

struct MessageCheck {
  bool parsed = false;        // parse_message accepted the input
  bool chain_parsed = false;  // parse_payload_chain(input[0], input[1..]) accepted it
  std::string violation;      // non-empty when a property failed
};

MessageCheck check_message(ByteView input);

// Input: records of [message-id step][number][total][seconds to advance]
// [content length][content]; see fuzz_properties.cc.
struct FragmentCheck {
  std::size_t completed = 0;
  std::size_t rejected = 0;
  std::string violation;
};

FragmentCheck check_fragment_sequence(ByteView input);

}  // namespace traverse::ike::fuzzing
