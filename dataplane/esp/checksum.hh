// The Internet checksum (RFC 1071) for IPv4 headers and UDP over IPv6.
#pragma once

#include <cstdint>
#include <cstring>

namespace traverse::esp {

// One's-complement sum of `len` bytes folded into 32 bits (not yet folded to 16).
inline uint32_t checksum_partial(const uint8_t* data, uint32_t len, uint32_t sum = 0) {
  uint64_t acc = sum;
  while (len >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    // Summing 32-bit halves in 64-bit cannot overflow for any packet size.
    acc += (word & 0xffffffffu) + (word >> 32);
    data += 8;
    len -= 8;
  }
  while (len >= 2) {
    uint16_t half;
    std::memcpy(&half, data, 2);
    acc += half;
    data += 2;
    len -= 2;
  }
  if (len != 0) {
    // Odd final byte: pad with zero in network order (it is the high byte).
    uint8_t last[2] = {data[0], 0};
    uint16_t half;
    std::memcpy(&half, last, 2);
    acc += half;
  }
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

// Folds a partial sum and complements it; the result is in network byte order
// as stored in memory (sums are taken over memory-order 16-bit words).
inline uint16_t checksum_finish(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline uint16_t checksum(const uint8_t* data, uint32_t len) {
  return checksum_finish(checksum_partial(data, len));
}

}  // namespace traverse::esp
