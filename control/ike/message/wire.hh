// Big-endian readers and writers over byte spans, shared by the parser and the
// builder of this folder (internal). Each object is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "control/ike/bytes.hh"

namespace traverse::ike::wire {

// Reads forward through a view; every read checks the remaining length first
// and fails without moving when it is short.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - offset_; }
  std::size_t offset() const { return offset_; }
  bool empty() const { return remaining() == 0; }

  bool u8(uint8_t& out) {
    if (remaining() < 1) {
      return false;
    }
    out = data_[offset_++];
    return true;
  }
  bool u16(uint16_t& out) {
    if (remaining() < 2) {
      return false;
    }
    out = static_cast<uint16_t>((data_[offset_] << 8) | data_[offset_ + 1]);
    offset_ += 2;
    return true;
  }
  bool u32(uint32_t& out) {
    if (remaining() < 4) {
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      out = (out << 8) | data_[offset_++];
    }
    return true;
  }
  bool u64(uint64_t& out) {
    if (remaining() < 8) {
      return false;
    }
    out = 0;
    for (int i = 0; i < 8; ++i) {
      out = (out << 8) | data_[offset_++];
    }
    return true;
  }
  bool view(std::size_t size, ByteView& out) {
    if (remaining() < size) {
      return false;
    }
    out = data_.subspan(offset_, size);
    offset_ += size;
    return true;
  }
  bool bytes(std::size_t size, Bytes& out) {
    ByteView v;
    if (!view(size, v)) {
      return false;
    }
    out.assign(v.begin(), v.end());
    return true;
  }
  ByteView rest() {
    ByteView v = data_.subspan(offset_);
    offset_ = data_.size();
    return v;
  }

 private:
  ByteView data_;
  std::size_t offset_ = 0;
};

inline void put_u8(Bytes& out, uint8_t value) {
  out.push_back(value);
}
inline void put_u16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
inline void put_u32(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(value >> shift));
  }
}
inline void put_u64(Bytes& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(value >> shift));
  }
}
inline void put_bytes(Bytes& out, ByteView data) {
  out.insert(out.end(), data.begin(), data.end());
}
inline void patch_u16(Bytes& out, std::size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value);
}
inline void patch_u32(Bytes& out, std::size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out[at + static_cast<std::size_t>(i)] = static_cast<uint8_t>(value >> (24 - 8 * i));
  }
}

}  // namespace traverse::ike::wire
