// Every outcome of ESP processing, as data: the dataplane counts drops by
// these codes and shows them by name. No exceptions anywhere in the core.
#pragma once

#include <cstdint>
#include <string_view>

namespace traverse::esp {

#define TRAVERSE_ESP_STATUS_LIST(X)                                            \
  X(ok, "ok")                                                                  \
  X(dummy, "dummy packet (next header 59) discarded")                          \
  X(too_short, "packet shorter than its headers")                              \
  X(bad_outer_header, "malformed outer IP or UDP header")                      \
  X(outer_fragment, "outer packet is a fragment: reassemble first")            \
  X(not_esp, "not an ESP or ESP-in-UDP packet")                                \
  X(nat_keepalive, "NAT keepalive (0xFF)")                                     \
  X(ike, "IKE after the non-ESP marker")                                       \
  X(spi_mismatch, "SPI does not belong to this SA")                            \
  X(bad_sequence, "sequence number zero")                                      \
  X(replay_duplicate, "replayed sequence number")                              \
  X(replay_too_old, "sequence number left of the replay window")               \
  X(bad_length, "ciphertext length not a multiple of the block size")          \
  X(bad_icv, "integrity check failed")                                         \
  X(bad_padding, "padding bytes or length wrong")                              \
  X(unknown_next_header, "next header is not IPv4, IPv6 or no-next-header")    \
  X(bad_inner_packet, "inner packet length disagrees with its IP header")      \
  X(ecn_unmarkable, "congestion marked outside, inner packet not ECN-capable") \
  X(unsupported_inner, "inner packet is not IPv4 or IPv6")                     \
  X(sequence_exhausted, "sequence number space used up: rekey")                \
  X(no_headroom, "not enough headroom for the outer headers")                  \
  X(no_tailroom, "not enough tailroom for padding and ICV")                    \
  X(too_big, "packet exceeds the maximum ESP packet size")

enum class Status : uint8_t {
#define TRAVERSE_ESP_STATUS_ENUM(name, text) name,
  TRAVERSE_ESP_STATUS_LIST(TRAVERSE_ESP_STATUS_ENUM)
#undef TRAVERSE_ESP_STATUS_ENUM
};

inline constexpr std::string_view kStatusNames[] = {
#define TRAVERSE_ESP_STATUS_NAME(name, text) #name,
    TRAVERSE_ESP_STATUS_LIST(TRAVERSE_ESP_STATUS_NAME)
#undef TRAVERSE_ESP_STATUS_NAME
};

inline constexpr std::string_view kStatusDescriptions[] = {
#define TRAVERSE_ESP_STATUS_TEXT(name, text) text,
    TRAVERSE_ESP_STATUS_LIST(TRAVERSE_ESP_STATUS_TEXT)
#undef TRAVERSE_ESP_STATUS_TEXT
};

inline constexpr std::size_t kStatusCount = std::size(kStatusNames);

constexpr std::string_view status_name(Status s) {
  return kStatusNames[static_cast<uint8_t>(s)];
}
constexpr std::string_view status_description(Status s) {
  return kStatusDescriptions[static_cast<uint8_t>(s)];
}

}  // namespace traverse::esp
