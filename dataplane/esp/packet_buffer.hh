// A packet in one contiguous buffer with head- and tailroom: the unit the ESP
// core works on. The dataplane wraps mbuf data in it, the client a TUN read
// buffer. A plain view: it owns nothing and is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace traverse::esp {

class PacketBuffer {
 public:
  constexpr PacketBuffer() = default;
  // `buffer` holds `capacity` bytes; the packet is `length` bytes at `offset`.
  constexpr PacketBuffer(uint8_t* buffer, uint32_t capacity, uint32_t offset, uint32_t length)
      : buffer_(buffer), capacity_(capacity), offset_(offset), length_(length) {}

  uint8_t* data() const { return buffer_ + offset_; }
  uint32_t length() const { return length_; }
  uint32_t headroom() const { return offset_; }
  uint32_t tailroom() const { return capacity_ - offset_ - length_; }
  uint8_t* end() const { return data() + length_; }

  // Grow at the front; nullptr (and no change) when the headroom is short.
  uint8_t* prepend(uint32_t bytes) {
    if (bytes > offset_) {
      return nullptr;
    }
    offset_ -= bytes;
    length_ += bytes;
    return data();
  }
  // Grow at the back; returns the first new byte, nullptr when tailroom is short.
  uint8_t* append(uint32_t bytes) {
    if (bytes > tailroom()) {
      return nullptr;
    }
    uint8_t* tail = end();
    length_ += bytes;
    return tail;
  }
  // Grows at both ends at once, for encapsulation: `front` bytes in front and
  // `back` behind. Returns the new data(); nullptr (and no change) when
  // either room is short.
  uint8_t* grow(uint32_t front, uint32_t back) {
    if (front > offset_ || back > tailroom()) {
      return nullptr;
    }
    offset_ -= front;
    length_ += front + back;
    return data();
  }
  // Shrink from the front or back; false (and no change) when too short.
  bool trim_front(uint32_t bytes) {
    if (bytes > length_) {
      return false;
    }
    offset_ += bytes;
    length_ -= bytes;
    return true;
  }
  bool trim_back(uint32_t bytes) {
    if (bytes > length_) {
      return false;
    }
    length_ -= bytes;
    return true;
  }

 private:
  uint8_t* buffer_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t offset_ = 0;
  uint32_t length_ = 0;
};

}  // namespace traverse::esp
