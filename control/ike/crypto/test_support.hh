// Helpers shared by this folder's unit tests: hex, the Debian test-vector
// files (NIST/RFC "Key = Value" records) and running independent
// implementations (python3, openssl) as child processes. Tests only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"

namespace traverse::ike::testing {

Bytes from_hex(std::string_view hex);
std::string to_hex(ByteView bytes);

// The directory of python3-cryptography-vectors (TRAVERSE_VECTORS_DIR).
std::string vectors_dir();
// A file's contents; throws std::runtime_error if it cannot be read, so a
// missing vector file fails the test rather than skipping it.
std::string read_text_file(const std::string& path);

// One "Key = Value" record; `section` is the last "[...]" header seen.
struct VectorRecord {
  std::string section;
  std::map<std::string, std::string> fields;
  bool has(const std::string& key) const { return fields.count(key) != 0; }
  const std::string& at(const std::string& key) const { return fields.at(key); }
};
// Records are separated by blank lines; '#' lines are skipped; CRLF tolerated.
std::vector<VectorRecord> parse_vector_file(const std::string& text);

// Runs a Python program with /usr/bin/python3 (TRAVERSE_PYTHON3), the given
// command-line arguments, and returns its standard output with the trailing
// newline removed. Throws std::runtime_error on a non-zero exit.
std::string run_python(const std::string& program, const std::vector<std::string>& args);
// Runs a shell command line and returns its standard output; throws on failure.
std::string run_command(const std::string& command_line);
// A fresh file under the temporary directory holding data; removed by the caller.
std::string write_temp_file(ByteView data);
std::string openssl_cli();

}  // namespace traverse::ike::testing
