#include "control/ike/message/fragments.hh"

#include <algorithm>
#include <utility>

namespace traverse::ike {

std::string to_string(FragmentRejection reason) {
  switch (reason) {
    case FragmentRejection::bad_number:
      return "bad fragment number";
    case FragmentRejection::too_many_fragments:
      return "too many fragments";
    case FragmentRejection::total_changed:
      return "total fragments changed";
    case FragmentRejection::stale_message_id:
      return "stale message id";
    case FragmentRejection::already_completed:
      return "message already reassembled";
    case FragmentRejection::too_many_bytes:
      return "reassembly byte limit";
  }
  return "unknown";
}

FragmentResult FragmentReassembler::reject(FragmentRejection reason, uint32_t message_id) {
  switch (reason) {
    case FragmentRejection::bad_number:
      ++counters_.bad_number;
      break;
    case FragmentRejection::too_many_fragments:
      ++counters_.too_many_fragments;
      break;
    case FragmentRejection::total_changed:
      ++counters_.total_changed;
      break;
    case FragmentRejection::stale_message_id:
      ++counters_.stale_message_id;
      break;
    case FragmentRejection::already_completed:
      ++counters_.already_completed;
      break;
    case FragmentRejection::too_many_bytes:
      ++counters_.too_many_bytes;
      break;
  }
  FragmentResult result;
  result.status = FragmentResult::Status::rejected;
  result.reason = reason;
  result.message_id = message_id;
  return result;
}

void FragmentReassembler::expire(Clock::time_point now) {
  if (active_ && now - active_->started >= limits_.timeout) {
    active_.reset();
    ++counters_.expired;
  }
}

FragmentResult FragmentReassembler::add(uint32_t message_id, uint16_t number, uint16_t total,
                                        PayloadType first_inner, ByteView decrypted_content,
                                        Clock::time_point now) {
  expire(now);
  if (number == 0 || total == 0 || number > total) {
    return reject(FragmentRejection::bad_number, message_id);
  }
  if (total > limits_.max_fragments) {
    return reject(FragmentRejection::too_many_fragments, message_id);
  }
  if (last_completed_ && message_id <= *last_completed_) {
    // The caller answers a retransmitted request with its cached response.
    return reject(message_id == *last_completed_ ? FragmentRejection::already_completed
                                                 : FragmentRejection::stale_message_id,
                  message_id);
  }
  if (active_ && message_id < active_->message_id) {
    return reject(FragmentRejection::stale_message_id, message_id);
  }
  if (active_ && message_id > active_->message_id) {
    active_.reset();
    ++counters_.superseded;
  }
  if (active_ && active_->total != total) {
    // RFC 7383 2.6.2: a changed total means the sender re-fragmented; start over.
    active_.reset();
    return reject(FragmentRejection::total_changed, message_id);
  }
  if (!active_) {
    Set fresh;
    fresh.message_id = message_id;
    fresh.total = total;
    fresh.started = now;
    fresh.fragments.resize(total);
    active_ = std::move(fresh);
  }
  Set& set = *active_;
  std::optional<Bytes>& slot = set.fragments[number - 1u];
  FragmentResult result;
  result.message_id = message_id;
  if (slot) {
    ++counters_.duplicates;
    return result;
  }
  if (decrypted_content.size() > limits_.max_bytes - set.bytes) {
    active_.reset();
    return reject(FragmentRejection::too_many_bytes, message_id);
  }
  slot.emplace(decrypted_content.begin(), decrypted_content.end());
  set.bytes += decrypted_content.size();
  ++set.received;
  ++counters_.accepted;
  if (number == 1) {
    set.first_inner = first_inner;
  }
  if (set.received < set.total) {
    return result;
  }
  result.status = FragmentResult::Status::complete;
  result.first_inner = set.first_inner;
  result.content.reserve(set.bytes);
  for (const std::optional<Bytes>& fragment : set.fragments) {
    result.content.insert(result.content.end(), fragment->begin(), fragment->end());
  }
  last_completed_ = message_id;
  active_.reset();
  ++counters_.completed;
  return result;
}

std::vector<ByteView> split_into_fragments(ByteView inner_plaintext, std::size_t max_content) {
  if (max_content == 0) {
    return {};
  }
  if (inner_plaintext.empty()) {
    return {inner_plaintext};
  }
  const std::size_t count = (inner_plaintext.size() + max_content - 1) / max_content;
  if (count > 65535) {
    return {};
  }
  std::vector<ByteView> pieces;
  pieces.reserve(count);
  for (std::size_t offset = 0; offset < inner_plaintext.size(); offset += max_content) {
    pieces.push_back(
        inner_plaintext.subspan(offset, std::min(max_content, inner_plaintext.size() - offset)));
  }
  return pieces;
}

std::size_t fragment_content_capacity(const FragmentSizing& sizing) {
  constexpr std::size_t udp_header = 8;
  constexpr std::size_t ike_header = 28;
  constexpr std::size_t skf_header = 8;
  constexpr std::size_t non_esp_marker = 4;
  const std::size_t overhead = (sizing.ipv6 ? 40 : 20) + udp_header +
                               (sizing.non_esp_marker ? non_esp_marker : 0) + ike_header +
                               skf_header + sizing.iv_size + sizing.icv_size;
  if (sizing.max_datagram <= overhead) {
    return 0;
  }
  const std::size_t room = sizing.max_datagram - overhead;
  const std::size_t block = std::max<std::size_t>(1, sizing.block_size);
  const std::size_t padded = room - room % block;
  // The encrypted part is content || padding || Pad Length, a whole number of blocks.
  return padded == 0 ? 0 : padded - 1;
}

}  // namespace traverse::ike
