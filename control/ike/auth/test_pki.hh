// Test support for ike_auth_unit_tests: a PKI made by the openssl CLI
// (make_test_pki.sh) once per test process in a temporary directory, and small
// helpers to run the CLI and move bytes through files. Not thread-safe.
#pragma once

#include <string>

#include "control/ike/bytes.hh"

namespace traverse::ike::testing {

// The directory holding the PKI (generated on first use, removed at exit).
const std::string& pki_dir();
std::string pki_path(const std::string& file);

// Runs a shell command; returns its exit status and stdout.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run(const std::string& command);

Bytes read_file(const std::string& path);
void write_file(const std::string& path, ByteView data);
Bytes from_hex(std::string_view hex);  // ignores spaces

}  // namespace traverse::ike::testing
