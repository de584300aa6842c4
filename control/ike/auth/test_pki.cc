#include "control/ike/auth/test_pki.hh"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace traverse::ike::testing {
namespace {

class PkiEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!created_.empty())
      run("rm -rf '" + created_ + "'");
  }
  const std::string& dir() {
    if (created_.empty()) {
      std::array<char, 64> name{};
      std::snprintf(name.data(), name.size(), "/tmp/ike-auth-pki.XXXXXX");
      if (mkdtemp(name.data()) == nullptr)
        std::abort();
      created_ = name.data();
      CommandResult made =
          run(std::string("bash '") + TRAVERSE_TEST_PKI_SCRIPT + "' '" + created_ + "' 2>&1");
      if (made.status != 0) {
        std::fprintf(stderr, "make_test_pki.sh failed:\n%s\n", made.output.c_str());
        std::abort();
      }
    }
    return created_;
  }

 private:
  std::string created_;
};

PkiEnvironment* environment =
    static_cast<PkiEnvironment*>(::testing::AddGlobalTestEnvironment(new PkiEnvironment));

}  // namespace

const std::string& pki_dir() {
  return environment->dir();
}

std::string pki_path(const std::string& file) {
  return pki_dir() + "/" + file;
}

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
    return result;
  std::array<char, 4096> buffer{};
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), got);
  }
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Bytes read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, ByteView data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (char c : hex) {
    int nibble = c >= '0' && c <= '9'   ? c - '0'
                 : c >= 'a' && c <= 'f' ? c - 'a' + 10
                 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : -1;
    if (nibble < 0)
      continue;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return out;
}

}  // namespace traverse::ike::testing
