// Reads the vector files line by line: "#" comments, "[k = v]" parameters,
// "[NAME]" sections, "k = v" fields, "FAIL" marks; a blank line or a repeated
// key ends a case.
#include "drivers/crypto/test_vectors.hh"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace traverse::crypto::test {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

int hex_digit(char c) {
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

}  // namespace

std::string vectors_dir() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no test calls setenv
  const char* dir = std::getenv("TRAVERSE_VECTORS_DIR");
  if (dir != nullptr && *dir != '\0') {
    return dir;
  }
  return "/usr/lib/python3/dist-packages/cryptography_vectors";
}

const std::string& VectorCase::get(const std::string& key) const {
  static const std::string empty;
  auto it = fields.find(key);
  return it == fields.end() ? empty : it->second;
}

std::string VectorCase::where(std::string_view file) const {
  return std::string(file) + ":" + std::to_string(line);
}

bool load_vectors(std::string_view relative_path, std::vector<VectorCase>* cases,
                  std::string* error) {
  const std::string path = vectors_dir() + "/" + std::string(relative_path);
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path +
             ": install python3-cryptography-vectors or set TRAVERSE_VECTORS_DIR";
    return false;
  }
  std::map<std::string, std::string> params;
  std::string section;
  VectorCase current;
  auto finish = [&] {
    if (!current.fields.empty()) {
      cases->push_back(std::move(current));
    }
    current = VectorCase{};
  };
  std::string raw;
  for (int line_number = 1; std::getline(in, raw); ++line_number) {
    const std::string_view line = trim(raw);
    if (line.empty()) {
      finish();
      continue;
    }
    if (line.front() == '#') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      finish();
      const std::string_view inner = line.substr(1, line.size() - 2);
      if (const size_t eq = inner.find('='); eq != std::string_view::npos) {
        params[std::string(trim(inner.substr(0, eq)))] = std::string(trim(inner.substr(eq + 1)));
      } else {
        section = std::string(trim(inner));
      }
      continue;
    }
    if (line == "FAIL") {
      current.fail = true;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      *error =
          path + ":" + std::to_string(line_number) + ": cannot parse \"" + std::string(line) + "\"";
      return false;
    }
    std::string key(trim(line.substr(0, eq)));
    if (current.fields.count(key) != 0) {
      finish();
    }
    if (current.fields.empty()) {
      current.line = line_number;
      current.params = params;
      current.section = section;
    }
    current.fields[std::move(key)] = std::string(trim(line.substr(eq + 1)));
  }
  finish();
  return true;
}

bool decode(std::string_view value, std::vector<uint8_t>* out) {
  out->clear();
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    out->assign(value.begin() + 1, value.end() - 1);
    return true;
  }
  if (value.size() % 2 != 0) {
    return false;
  }
  for (size_t i = 0; i < value.size(); i += 2) {
    const int hi = hex_digit(value[i]);
    const int lo = hex_digit(value[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(decode(hex, &out)) << "bad hex literal " << hex;
  return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

std::unique_ptr<CipherSession> make_session(Backend backend, Transform transform,
                                            const std::vector<uint8_t>& cipher_key,
                                            const std::vector<uint8_t>& salt,
                                            const std::vector<uint8_t>& auth_key) {
  std::string error;
  auto session = CipherSession::create(backend, transform, {cipher_key, salt, auth_key}, &error);
  EXPECT_NE(session, nullptr) << transform_info(transform).name << " on " << backend_name(backend)
                              << ": " << error;
  return session;
}

std::string backend_id(Backend backend) {
  return backend == Backend::ipsec_mb ? "ipsecmb" : "openssl";
}

std::string transform_id(Transform transform) {
  std::string id(transform_info(transform).name);
  for (char& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      c = '_';
    }
  }
  return id;
}

}  // namespace traverse::crypto::test
