// IKE message fragmentation (RFC 7383): reassembly of decrypted SKF contents
// with bounded memory, and splitting of an inner payload chain into fragment
// contents. A FragmentReassembler belongs to one IKE SA and direction and is
// not thread-safe (the SA's reactor owns it); the free functions are.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/constants.hh"

namespace traverse::ike {

struct ReassemblyLimits {
  uint16_t max_fragments = 64;    // largest acceptable Total Fragments
  std::size_t max_bytes = 65535;  // decrypted content held for one message
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
};

enum class FragmentRejection : uint8_t {
  bad_number,          // 0, or above total
  too_many_fragments,  // total above ReassemblyLimits::max_fragments
  total_changed,       // total differs within a message: the set is dropped
  stale_message_id,    // older than the message being collected or completed
  already_completed,   // a fragment of the message just reassembled (a retransmission)
  too_many_bytes,      // content would exceed max_bytes: the set is dropped
};
std::string to_string(FragmentRejection reason);

struct FragmentResult {
  enum class Status : uint8_t { incomplete, complete, rejected };
  Status status = Status::incomplete;
  FragmentRejection reason{};  // when rejected
  uint32_t message_id = 0;
  PayloadType first_inner = PayloadType::none;  // when complete: from fragment 1
  Bytes content;                                // when complete: the inner payload chain
};

struct ReassemblyCounters {
  uint64_t accepted = 0;
  uint64_t completed = 0;
  uint64_t duplicates = 0;
  uint64_t superseded = 0;  // incomplete sets dropped for a newer message id
  uint64_t expired = 0;     // incomplete sets dropped by the timeout
  uint64_t bad_number = 0;
  uint64_t too_many_fragments = 0;
  uint64_t total_changed = 0;
  uint64_t stale_message_id = 0;
  uint64_t already_completed = 0;
  uint64_t too_many_bytes = 0;
};

class FragmentReassembler {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FragmentReassembler(const ReassemblyLimits& limits = {}) : limits_(limits) {}

  // One fragment whose SKF payload already verified and decrypted.
  FragmentResult add(uint32_t message_id, uint16_t number, uint16_t total, PayloadType first_inner,
                     ByteView decrypted_content, Clock::time_point now);

  // Drops a set older than the timeout; add() calls it too.
  void expire(Clock::time_point now);

  bool collecting() const { return active_.has_value(); }
  std::size_t bytes_held() const { return active_ ? active_->bytes : 0; }
  const ReassemblyCounters& counters() const { return counters_; }

 private:
  struct Set {
    uint32_t message_id = 0;
    uint16_t total = 0;
    uint16_t received = 0;
    std::size_t bytes = 0;
    PayloadType first_inner = PayloadType::none;
    Clock::time_point started;
    std::vector<std::optional<Bytes>> fragments;
  };

  FragmentResult reject(FragmentRejection reason, uint32_t message_id);

  ReassemblyLimits limits_;
  std::optional<Set> active_;
  std::optional<uint32_t> last_completed_;
  ReassemblyCounters counters_;
};

// Cuts the inner chain into contents of at most max_content bytes each (the
// last may be shorter). Empty when max_content is 0 or more than 65535
// fragments would be needed; one empty view for empty input.
std::vector<ByteView> split_into_fragments(ByteView inner_plaintext, std::size_t max_content);

struct FragmentSizing {
  std::size_t max_datagram = 1280;  // IP datagram; RFC 7383 2.5.1: 1280 (IPv6), 576 (IPv4)
  bool ipv6 = true;
  bool non_esp_marker = false;  // UDP 4500 carries a 4-byte zero marker
  std::size_t iv_size = 16;
  std::size_t icv_size = 16;
  std::size_t block_size = 16;  // cipher block; 1 for AEAD stream modes such as GCM
};

// The largest decrypted content one SKF payload can carry within max_datagram:
// minus IP (20/40) and UDP (8) headers, the marker, the IKE (28) and SKF (8)
// headers, IV and ICV, then room for the padding and Pad Length byte that the
// SK encryption adds (RFC 7383 2.5.1, RFC 7296 3.14). 0 when nothing fits.
std::size_t fragment_content_capacity(const FragmentSizing& sizing);

}  // namespace traverse::ike
