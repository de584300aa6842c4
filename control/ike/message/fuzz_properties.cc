#include "control/ike/message/fuzz_properties.hh"

#include <algorithm>
#include <chrono>
#include <map>

#include "control/ike/message/builder.hh"
#include "control/ike/message/fragments.hh"
#include "control/ike/message/parser.hh"

namespace traverse::ike::fuzzing {
namespace {

std::string round_trip_violation(const Message& m) {
  const Bytes rebuilt = build_message(m.header, m.payloads);
  if (rebuilt.empty()) {
    return "a parsed message did not rebuild";
  }
  auto again = parse_message(rebuilt);
  if (!again) {
    return "rebuilt message does not parse: " + again.error().describe();
  }
  Header want = m.header;
  want.length = static_cast<uint32_t>(rebuilt.size());
  if (!(again->header == want)) {
    return "header changed in a round trip";
  }
  if (!(again->payloads == m.payloads)) {
    return "payloads changed in a round trip";
  }
  return {};
}

}  // namespace

MessageCheck check_message(ByteView input) {
  MessageCheck check;
  auto parsed = parse_message(input);
  if (parsed) {
    check.parsed = true;
    if (parsed->header.length != input.size()) {
      check.violation = "accepted a header length that differs from the datagram";
      return check;
    }
    check.violation = round_trip_violation(parsed.value());
    if (!check.violation.empty()) {
      return check;
    }
  } else if (parsed.error().detail.empty()) {
    check.violation = "error without detail";
    return check;
  }
  if (!input.empty()) {
    const auto first = static_cast<PayloadType>(input[0]);
    auto chain = parse_payload_chain(first, input.subspan(1));
    if (chain) {
      check.chain_parsed = true;
      PayloadType rebuilt_first = PayloadType::none;
      const Bytes rebuilt = serialize_payload_chain(chain.value(), &rebuilt_first);
      auto again = parse_payload_chain(rebuilt_first, rebuilt);
      if (!again || !(again.value() == chain.value())) {
        check.violation = "inner chain changed in a round trip";
      }
    }
  }
  return check;
}

FragmentCheck check_fragment_sequence(ByteView input) {
  FragmentCheck check;
  ReassemblyLimits limits;
  limits.max_fragments = 16;
  limits.max_bytes = 2048;
  limits.timeout = std::chrono::seconds(30);
  FragmentReassembler reassembler(limits);
  auto now = FragmentReassembler::Clock::time_point{} + std::chrono::hours(1);
  uint32_t message_id = 100;
  // The harness's own model of the set being collected: number -> content,
  // so a completed message is compared with an independent concatenation.
  std::map<uint16_t, Bytes> model;
  std::size_t at = 0;
  while (at + 5 <= input.size()) {
    const auto step = static_cast<int8_t>(input[at]);
    const uint16_t number = input[at + 1];
    const uint16_t total = input[at + 2];
    const uint8_t seconds = input[at + 3];
    const std::size_t length = std::min<std::size_t>(input[at + 4], input.size() - at - 5);
    const ByteView content = input.subspan(at + 5, length);
    at += 5 + length;
    message_id = static_cast<uint32_t>(static_cast<int64_t>(message_id) + step);
    now += std::chrono::seconds(seconds);

    const bool had_set = reassembler.collecting();
    const ReassemblyCounters before = reassembler.counters();
    const auto result = reassembler.add(message_id, number, total, PayloadType::idi, content, now);
    const ReassemblyCounters& after = reassembler.counters();
    if (!had_set || after.expired != before.expired || after.superseded != before.superseded) {
      model.clear();
    }
    if (reassembler.bytes_held() > limits.max_bytes) {
      check.violation = "held more than max_bytes";
      return check;
    }
    if (result.status == FragmentResult::Status::rejected) {
      ++check.rejected;
      if (result.reason == FragmentRejection::total_changed ||
          result.reason == FragmentRejection::too_many_bytes) {
        model.clear();
      }
      continue;
    }
    if (after.duplicates == before.duplicates) {
      model.emplace(number, Bytes(content.begin(), content.end()));
    }
    if (result.status != FragmentResult::Status::complete) {
      continue;
    }
    ++check.completed;
    Bytes want;
    for (const auto& [n, bytes] : model) {
      want.insert(want.end(), bytes.begin(), bytes.end());
    }
    if (result.content.size() > limits.max_bytes || total > limits.max_fragments ||
        model.size() != total) {
      check.violation = "completed beyond the limits or before every fragment arrived";
      return check;
    }
    if (result.message_id != message_id || result.first_inner != PayloadType::idi) {
      check.violation = "completed the wrong message";
      return check;
    }
    if (want != result.content) {
      check.violation = "reassembled content differs from the fragments";
      return check;
    }
    model.clear();
  }
  const auto& c = reassembler.counters();
  if (c.completed != check.completed || c.accepted < c.completed) {
    check.violation = "counters disagree with the results";
  }
  return check;
}

}  // namespace traverse::ike::fuzzing
