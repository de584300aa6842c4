// Keeps the fuzzer's seed corpus (fuzz_corpus/*.bin) in step with the schema:
// every seed must be one of testing::seed_messages(), byte for byte, and pass
// validate(). With TRAVERSE_WRITE_FUZZ_CORPUS=1 it (re)writes the files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "dataplane/api/test_messages.hh"
#include "dataplane/api/validate.hh"

namespace traverse::api {
namespace {

std::filesystem::path corpus_dir() {
  const char* source = std::getenv("TRAVERSE_API_SOURCE_DIR");
  return std::filesystem::path(source != nullptr ? source : "dataplane/api") / "fuzz_corpus";
}

TEST(FuzzCorpus, SeedsMatchTheSchema) {
  const std::filesystem::path dir = corpus_dir();
  const char* write = std::getenv("TRAVERSE_WRITE_FUZZ_CORPUS");
  if (write != nullptr && std::string(write) == "1") {
    std::filesystem::create_directories(dir);
    for (const auto& [name, m] : testing::seed_messages()) {
      std::ofstream out(dir / (name + ".bin"), std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(&m), sizeof m);
    }
  }
  if (!std::filesystem::is_directory(dir)) {
    FAIL() << dir << " not found (set TRAVERSE_API_SOURCE_DIR)";
  }
  for (const auto& [name, want] : testing::seed_messages()) {
    std::ifstream in(dir / (name + ".bin"), std::ios::binary);
    ASSERT_TRUE(in) << "missing seed " << name << ".bin; regenerate with "
                    << "TRAVERSE_WRITE_FUZZ_CORPUS=1";
    Message m;
    in.read(reinterpret_cast<char*>(&m), sizeof m);
    ASSERT_EQ(in.gcount(), static_cast<std::streamsize>(sizeof m)) << name << " is too short";
    EXPECT_EQ(in.get(), std::char_traits<char>::eof()) << name << " is too long";
    EXPECT_EQ(std::memcmp(&m, &want, sizeof m), 0) << name << " is stale; regenerate";
    char detail[96];
    EXPECT_EQ(validate(m, detail, sizeof detail), ReplyStatus::ok) << name << ": " << detail;
  }
}

}  // namespace
}  // namespace traverse::api
