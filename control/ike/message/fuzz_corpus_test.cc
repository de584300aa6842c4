// Replays the fuzzers' seed corpora (fuzz_corpus/message, fuzz_corpus/fragment)
// through the same property checks the fuzzers run. Every seed is valid: each
// message must parse and round-trip, each fragment sequence must complete at
// least one message. TRAVERSE_WRITE_FUZZ_CORPUS=1 (re)writes the seeds we
// generate; scapy_*.bin seeds come from scapy (see ike_message_scapy.py).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "control/ike/message/fuzz_properties.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/message/test_messages.hh"

namespace traverse::ike {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() {
  const char* source = std::getenv("TRAVERSE_IKE_MESSAGE_SOURCE_DIR");
  return fs::path(source != nullptr ? source : "control/ike/message") / "fuzz_corpus";
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// One fragment record of check_fragment_sequence's input format.
void record(Bytes& out, int8_t step, uint8_t number, uint8_t total, uint8_t seconds,
            const Bytes& content) {
  out.push_back(static_cast<uint8_t>(step));
  out.push_back(number);
  out.push_back(total);
  out.push_back(seconds);
  out.push_back(static_cast<uint8_t>(content.size()));
  out.insert(out.end(), content.begin(), content.end());
}

std::map<std::string, Bytes> fragment_seeds() {
  using testing::pattern;
  std::map<std::string, Bytes> seeds;
  Bytes in_order;
  for (uint8_t n = 1; n <= 3; ++n) {
    record(in_order, 0, n, 3, 0, pattern(20, n));
  }
  seeds["in_order"] = in_order;
  Bytes shuffled;
  record(shuffled, 0, 2, 3, 0, pattern(10, 2));
  record(shuffled, 0, 2, 3, 1, pattern(10, 9));
  record(shuffled, 0, 3, 3, 0, pattern(5, 3));
  record(shuffled, 0, 1, 3, 0, pattern(30, 1));
  seeds["out_of_order_duplicate"] = shuffled;
  Bytes newer;
  record(newer, 0, 1, 2, 0, pattern(8, 1));
  record(newer, 1, 2, 2, 0, pattern(8, 2));
  record(newer, -1, 1, 2, 0, pattern(8, 3));
  record(newer, 1, 1, 2, 0, pattern(8, 4));
  seeds["newer_message_id"] = newer;
  Bytes changes;
  record(changes, 0, 1, 4, 0, pattern(8, 1));
  record(changes, 0, 2, 2, 0, pattern(8, 2));
  record(changes, 0, 1, 2, 0, pattern(8, 3));
  record(changes, 0, 2, 2, 0, pattern(8, 4));
  seeds["total_changed"] = changes;
  Bytes late;
  record(late, 0, 1, 2, 0, pattern(8, 1));
  record(late, 0, 2, 2, 40, pattern(8, 2));
  record(late, 0, 1, 2, 0, pattern(8, 3));
  seeds["timeout"] = late;
  return seeds;
}

TEST(FuzzCorpus, SeedsAreValidAndCurrent) {
  const fs::path dir = corpus_dir();
  const char* write = std::getenv("TRAVERSE_WRITE_FUZZ_CORPUS");
  const bool writing = write != nullptr && std::string(write) == "1";
  if (writing) {
    fs::create_directories(dir / "message");
    fs::create_directories(dir / "fragment");
    for (const auto& [name, bytes] : testing::sample_datagrams()) {
      write_file(dir / "message" / (name + ".bin"), bytes);
    }
    for (const auto& [name, bytes] : fragment_seeds()) {
      write_file(dir / "fragment" / (name + ".bin"), bytes);
    }
  }
  ASSERT_TRUE(fs::is_directory(dir / "message"))
      << dir << "/message not found (set TRAVERSE_IKE_MESSAGE_SOURCE_DIR)";
  ASSERT_TRUE(fs::is_directory(dir / "fragment")) << dir << "/fragment not found";

  for (const auto& [name, want] : testing::sample_datagrams()) {
    EXPECT_EQ(read_file(dir / "message" / (name + ".bin")), want)
        << name << ".bin is missing or stale; regenerate with TRAVERSE_WRITE_FUZZ_CORPUS=1";
  }
  std::size_t messages = 0;
  for (const auto& entry : fs::directory_iterator(dir / "message")) {
    SCOPED_TRACE(entry.path().string());
    const Bytes data = read_file(entry.path());
    const auto check = fuzzing::check_message(data);
    // Named seeds are real messages and must parse; inputs the fuzzer added
    // (hash names) may be malformed on purpose, but must keep the properties.
    if (entry.path().extension() == ".bin") {
      EXPECT_TRUE(check.parsed) << parse_message(data).error().describe();
    }
    EXPECT_TRUE(check.violation.empty()) << check.violation;
    ++messages;
  }
  EXPECT_GE(messages, testing::sample_datagrams().size() + 1);  // + the scapy seed

  std::size_t sequences = 0;
  for (const auto& entry : fs::directory_iterator(dir / "fragment")) {
    SCOPED_TRACE(entry.path().string());
    const auto check = fuzzing::check_fragment_sequence(read_file(entry.path()));
    if (entry.path().extension() == ".bin") {
      EXPECT_GE(check.completed, 1u);  // each named seed reassembles a message
    }
    EXPECT_TRUE(check.violation.empty()) << check.violation;
    ++sequences;
  }
  EXPECT_GE(sequences, fragment_seeds().size());
}

}  // namespace
}  // namespace traverse::ike
