#include "control/ike/crypto/test_support.hh"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace traverse::ike::testing {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

Bytes from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string digits;
  for (char c : hex) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      digits += c;
    }
  }
  if (digits.size() % 2 != 0) {
    throw std::runtime_error("odd-length hex: " + digits);
  }
  Bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(digits[2 * i]);
    const int lo = nibble(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      throw std::runtime_error("bad hex: " + digits);
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string to_hex(ByteView bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::string vectors_dir() {
  return env_or("TRAVERSE_VECTORS_DIR", "/usr/lib/python3/dist-packages/cryptography_vectors");
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path +
                             " (install python3-cryptography-vectors: scripts/setup.sh)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<VectorRecord> parse_vector_file(const std::string& text) {
  std::vector<VectorRecord> records;
  VectorRecord current;
  std::string section;
  auto flush = [&] {
    if (!current.fields.empty()) {
      records.push_back(current);
    }
    current = VectorRecord{};
    current.section = section;
  };
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') {
      continue;
    }
    if (line[0] == '[') {
      flush();
      section = line;
      current.section = section;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    current.fields[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  flush();
  return records;
}

std::string run_command(const std::string& command_line) {
  FILE* pipe = popen(command_line.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run: " + command_line);
  }
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    out.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  if (status != 0) {
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command_line);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

std::string write_temp_file(ByteView data) {
  std::string path = env_or("TMPDIR", "/tmp") + "/traverse-ike-crypto-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) {
    throw std::runtime_error("mkstemp failed");
  }
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n <= 0) {
      close(fd);
      throw std::runtime_error("write to " + path + " failed");
    }
    written += static_cast<std::size_t>(n);
  }
  close(fd);
  return path;
}

std::string run_python(const std::string& program, const std::vector<std::string>& args) {
  const std::string script = write_temp_file(as_bytes(program));
  std::string command =
      shell_quote(env_or("TRAVERSE_PYTHON3", "/usr/bin/python3")) + " " + shell_quote(script);
  for (const auto& arg : args) {
    command += " " + shell_quote(arg);
  }
  try {
    std::string out = run_command(command);
    std::remove(script.c_str());
    return out;
  } catch (...) {
    std::remove(script.c_str());
    throw;
  }
}

std::string openssl_cli() {
  return env_or("TRAVERSE_OPENSSL", "openssl");
}

}  // namespace traverse::ike::testing
