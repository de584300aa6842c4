// Hex text <-> bytes, for keys in configuration files and for the tools that
// exchange packets as hex lines. Stateless; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace traverse::esp {

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Decodes into `out` (at most `max` bytes, no allocation); false on an odd
// length, a non-hex digit or too many bytes.
inline bool decode_hex(std::string_view text, uint8_t* out, std::size_t max, std::size_t* len) {
  if (text.size() % 2 != 0 || text.size() / 2 > max) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_digit(text[i]);
    const int lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  *len = text.size() / 2;
  return true;
}

// Accepts an optional 0x prefix; false (and `out` empty) on bad input.
inline bool parse_hex(std::string_view text, std::vector<uint8_t>* out) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  out->resize(text.size() / 2 + 1);
  std::size_t len = 0;
  if (!decode_hex(text, out->data(), out->size(), &len)) {
    out->clear();
    return false;
  }
  out->resize(len);
  return true;
}

inline void append_hex(std::string& out, const uint8_t* data, std::size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < len; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
}

}  // namespace traverse::esp
