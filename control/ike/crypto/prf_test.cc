// Prf: RFC 4231 HMAC vectors from Debian's python3-cryptography-vectors, and
// prf+ against an independent Python (hmac, hashlib) implementation.
#include "control/ike/crypto/prf.hh"

#include <gtest/gtest.h>

#include "control/ike/crypto/test_support.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::to_hex;

// prf+ of RFC 7296 2.13, written independently in Python.
constexpr const char* kPythonPrfPlus = R"(
import hashlib, hmac, sys
digest = {'5': hashlib.sha256, '6': hashlib.sha384, '7': hashlib.sha512}[sys.argv[1]]
key, seed = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
for length in map(int, sys.argv[4].split(',')):
    out, t, n = b'', b'', 1
    while len(out) < length:
        t = hmac.new(key, t + seed + bytes([n]), digest).digest()
        out += t
        n += 1
    print(out[:length].hex())
)";

struct Rfc4231File {
  uint16_t prf_id;
  const char* file;
  std::size_t output_size;
};

class PrfKnownAnswer : public ::testing::TestWithParam<Rfc4231File> {};

TEST_P(PrfKnownAnswer, MatchesRfc4231) {
  const auto& param = GetParam();
  auto prf = Prf::create(param.prf_id);
  ASSERT_TRUE(prf);
  EXPECT_EQ(prf->id(), param.prf_id);
  EXPECT_EQ(prf->output_size(), param.output_size);
  const auto records = testing::parse_vector_file(
      testing::read_text_file(testing::vectors_dir() + "/HMAC/" + param.file));
  std::size_t checked = 0;
  for (const auto& record : records) {
    if (!record.has("Key") || !record.has("Msg") || !record.has("MD")) {
      continue;
    }
    const Bytes key = from_hex(record.at("Key"));
    const Bytes msg = from_hex(record.at("Msg"));
    const Secret mac = prf->compute(key, msg);
    EXPECT_EQ(to_hex(mac.view()), record.at("MD")) << param.file << " key " << record.at("Key");
    ++checked;
  }
  // RFC 4231 has six full-length cases (test case 5 is truncated, left out).
  EXPECT_GE(checked, 6u) << param.file;
}

INSTANTIATE_TEST_SUITE_P(Sha2, PrfKnownAnswer,
                         ::testing::Values(Rfc4231File{kPrfHmacSha2_256, "rfc-4231-sha256.txt", 32},
                                           Rfc4231File{kPrfHmacSha2_384, "rfc-4231-sha384.txt", 48},
                                           Rfc4231File{kPrfHmacSha2_512, "rfc-4231-sha512.txt",
                                                       64}));

TEST(Prf, RejectsUnsupportedIds) {
  for (uint16_t id : {0, 1, 2, 3, 4, 8, 9, 0xffff}) {
    EXPECT_FALSE(Prf::create(id)) << id;
  }
}

TEST(Prf, EmptyKeyAndDataMatchPython) {
  auto prf = Prf::create(kPrfHmacSha2_256);
  ASSERT_TRUE(prf);
  const std::string expected = testing::run_python(
      "import hmac, hashlib; print(hmac.new(b'', b'', hashlib.sha256).hexdigest())", {});
  EXPECT_EQ(to_hex(prf->compute({}, {}).view()), expected);
}

TEST(Prf, PlusMatchesPython) {
  Bytes key(48), seed(80);
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<uint8_t>(i * 7 + 1);
  for (std::size_t i = 0; i < seed.size(); ++i)
    seed[i] = static_cast<uint8_t>(255 - i);
  for (uint16_t id : {kPrfHmacSha2_256, kPrfHmacSha2_384, kPrfHmacSha2_512}) {
    auto prf = Prf::create(id);
    ASSERT_TRUE(prf);
    const std::size_t block = prf->output_size();
    const std::vector<std::size_t> lengths = {1,    block - 1,  block, block + 1, 3 * block + 5,
                                              1000, 255 * block};
    std::string ours, joined;
    for (std::size_t length : lengths) {
      const Secret out = prf->plus(key, seed, length);
      ASSERT_EQ(out.size(), length);
      ours += (ours.empty() ? "" : "\n") + to_hex(out.view());
      joined += (joined.empty() ? "" : ",") + std::to_string(length);
    }
    // One line per length, in order.
    EXPECT_EQ(ours, testing::run_python(kPythonPrfPlus,
                                        {std::to_string(id), to_hex(key), to_hex(seed), joined}))
        << "prf " << id;
  }
}

TEST(Prf, PlusPrefixIsStable) {
  // prf+ output for a shorter length is a prefix of a longer one.
  auto prf = Prf::create(kPrfHmacSha2_384);
  ASSERT_TRUE(prf);
  const Bytes key = from_hex("00112233445566778899");
  const Bytes seed = from_hex("deadbeef");
  const Secret longer = prf->plus(key, seed, 500);
  const Secret shorter = prf->plus(key, seed, 77);
  ASSERT_EQ(shorter.size(), 77u);
  EXPECT_EQ(to_hex(shorter.view()), to_hex(longer.view().first(77)));
}

TEST(Prf, PlusRejectsLengthsBeyond255Blocks) {
  auto prf = Prf::create(kPrfHmacSha2_256);
  ASSERT_TRUE(prf);
  const Bytes key(32, 1);
  EXPECT_TRUE(prf->plus(key, {}, 0).empty());
  EXPECT_EQ(prf->plus(key, {}, 255 * 32).size(), 255u * 32);
  EXPECT_TRUE(prf->plus(key, {}, 255 * 32 + 1).empty());
  EXPECT_TRUE(prf->plus(key, {}, static_cast<std::size_t>(-1)).empty());
}

TEST(Prf, CopiesAndMovesStayUsable) {
  auto prf = Prf::create(kPrfHmacSha2_512);
  ASSERT_TRUE(prf);
  const Bytes key = from_hex("0b0b0b0b");
  const std::string expected = to_hex(prf->compute(key, key).view());
  Prf copy = *prf;
  Prf moved = std::move(*prf);
  EXPECT_EQ(to_hex(copy.compute(key, key).view()), expected);
  EXPECT_EQ(to_hex(moved.compute(key, key).view()), expected);
  copy = moved;
  EXPECT_EQ(to_hex(copy.compute(key, key).view()), expected);
}

}  // namespace
}  // namespace traverse::ike
