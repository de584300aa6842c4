// KeyExchange: RFC 7748 X25519 and NIST CAVS ECC ZZOnly vectors from Debian's
// python3-cryptography-vectors, RFC 5903 section 8 (quoted), RFC 3526 MODP
// primes checked through Python's pow(), and exchanges with the openssl CLI.
#include "control/ike/crypto/key_exchange.hh"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "control/ike/crypto/test_support.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::to_hex;

// A big-endian integer from a vector file, resized to exactly `size` octets:
// leading zeros are dropped or added. A value too large to fit keeps its extra
// octets, so the code under test sees (and must reject) a wrong length.
Bytes fit(const std::string& hex, std::size_t size) {
  Bytes value = from_hex(hex);
  std::size_t zeros = 0;
  while (zeros < value.size() && value[zeros] == 0 && value.size() - zeros > size)
    ++zeros;
  value.erase(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(zeros));
  if (value.size() < size)
    value.insert(value.begin(), size - value.size(), 0);
  return value;
}

Bytes cat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(KeyExchange, SupportedGroups) {
  for (uint16_t g : {14, 15, 19, 20, 21, 31}) {
    EXPECT_TRUE(KeyExchange::supported(g)) << g;
  }
  for (uint16_t g : {0, 1, 2, 5, 16, 22, 32, 0xffff}) {
    EXPECT_FALSE(KeyExchange::supported(g)) << g;
    EXPECT_FALSE(KeyExchange::generate(g)) << g;
  }
}

TEST(KeyExchange, X25519Rfc7748) {
  const auto records = testing::parse_vector_file(
      testing::read_text_file(testing::vectors_dir() + "/asymmetric/X25519/rfc7748.txt"));
  std::size_t checked = 0;
  for (const auto& r : records) {
    if (!r.has("INPUT_SCALAR"))
      continue;
    auto kx = KeyExchange::from_private(kGroupCurve25519, from_hex(r.at("INPUT_SCALAR")));
    ASSERT_TRUE(kx);
    auto secret = kx->shared_secret(from_hex(r.at("INPUT_U")));
    ASSERT_TRUE(secret) << secret.error();
    EXPECT_EQ(to_hex(secret->view()), r.at("OUTPUT_U"));
    ++checked;
  }
  EXPECT_GE(checked, 2u);
}

TEST(KeyExchange, X25519RejectsSmallOrderPointsAndBadLengths) {
  auto kx = KeyExchange::generate(kGroupCurve25519);
  ASSERT_TRUE(kx);
  EXPECT_EQ(kx->public_value().size(), 32u);
  EXPECT_FALSE(kx->shared_secret(Bytes(32, 0)));  // u = 0: all-zero result
  Bytes one(32, 0);
  one[0] = 1;
  EXPECT_FALSE(kx->shared_secret(one));  // u = 1: order 1
  EXPECT_FALSE(kx->shared_secret(Bytes(31, 9)));
  EXPECT_FALSE(kx->shared_secret(Bytes(33, 9)));
  EXPECT_FALSE(kx->shared_secret({}));
  EXPECT_FALSE(KeyExchange::from_private(kGroupCurve25519, Bytes(31, 1)));
}

struct EcpCase {
  uint16_t group;
  const char* section;  // the CAVS parameter set
  std::size_t field;
};
constexpr EcpCase kEcpCases[] = {{kGroupEcp256, "[EC - SHA256]", 32},
                                 {kGroupEcp384, "[ED - SHA384]", 48},
                                 {kGroupEcp521, "[EE - SHA512]", 66}};

TEST(KeyExchange, EcpNistCavsZzOnly) {
  for (const char* file : {"KASValidityTest_ECCStaticUnified_NOKC_ZZOnly_init.fax",
                           "KASValidityTest_ECCStaticUnified_NOKC_ZZOnly_resp.fax"}) {
    const auto records = testing::parse_vector_file(
        testing::read_text_file(testing::vectors_dir() + "/asymmetric/ECDH/" + file));
    for (const auto& c : kEcpCases) {
      std::size_t correct = 0, bad_peer = 0, changed_z = 0;
      for (const auto& r : records) {
        if (r.section != c.section || !r.has("Result"))
          continue;
        const std::string& result = r.at("Result");
        auto kx = KeyExchange::from_private(c.group, fit(r.at("dsIUT"), c.field));
        const Bytes peer = cat(fit(r.at("QsCAVSx"), c.field), fit(r.at("QsCAVSy"), c.field));
        const std::string z = to_hex(fit(r.at("Z"), c.field));
        if (result.rfind("P ", 0) == 0) {
          ASSERT_TRUE(kx) << file << " " << c.section << " COUNT " << r.at("COUNT");
          EXPECT_EQ(to_hex(kx->public_value()),
                    to_hex(cat(fit(r.at("QsIUTx"), c.field), fit(r.at("QsIUTy"), c.field))));
          auto secret = kx->shared_secret(peer);
          ASSERT_TRUE(secret) << secret.error();
          EXPECT_EQ(to_hex(secret->view()), z) << file << " COUNT " << r.at("COUNT");
          ++correct;
        } else if (result.find("CAVS's Static public key") != std::string::npos) {
          // The peer's point fails validation: it must never yield a secret.
          ASSERT_TRUE(kx);
          EXPECT_FALSE(kx->shared_secret(peer)) << file << " COUNT " << r.at("COUNT");
          ++bad_peer;
        } else if (result.find("Z changed") != std::string::npos) {
          ASSERT_TRUE(kx);
          auto secret = kx->shared_secret(peer);
          ASSERT_TRUE(secret);
          EXPECT_NE(to_hex(secret->view()), z);
          ++changed_z;
        }
        // The IUT-key failure cases test the IUT's own key checks, not ours.
      }
      EXPECT_GE(correct, 10u) << file << " " << c.section;
      EXPECT_GE(bad_peer, 2u) << file << " " << c.section;
      EXPECT_GE(changed_z, 1u) << file << " " << c.section;
    }
  }
}

// RFC 5903 section 8 (8.1 256-bit, 8.2 384-bit, 8.3 521-bit random ECP
// groups): i, g^i = (gix, giy), r, g^r, and g^ir's x coordinate.
struct Rfc5903Example {
  uint16_t group;
  const char* i;
  const char* gi;  // gix || giy
  const char* r;
  const char* gr;
  const char* girx;
};
const Rfc5903Example kRfc5903[] = {
    {kGroupEcp256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
     "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
     "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
     "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
     "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
     "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
     "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"},
    {kGroupEcp384,
     "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB"
     "194",
     "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F4"
     "1AA"
     "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A"
     "81C",
     "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A744"
     "8FC",
     "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3"
     "571"
     "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E63"
     "86C",
     "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59"
     "746"},
    {kGroupEcp521,
     "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9"
     "7"
     "77F5957B2639BAB072462F68C27A57382D4A52",
     "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBEE1E3BF42E00B8E380AEAE57C2D107"
     "5"
     "64941885942AF5A7F4601723C4195D176CED3E"
     "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10AD8A788015AC405D7799DC75E7B7D5"
     "B"
     "6CF2261A6A7F1507438BF01BEB6CA3926F9582",
     "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E"
     "4"
     "C2F869CCA7458AA4A4EFFC311F5CB151685EB9",
     "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A219B97C356436ADC6E95BB0352F6BE6"
     "4"
     "A6C2912D4EF2D0433CED2B6171640012D9460F"
     "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87220B6536C5C408A1D2AEBB8E86D67"
     "8"
     "AE49CB57091F4732296579AB44FCD17F0FC56A",
     "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A3478685981"
     "0C06B3C715A3A8CC3151F2BEE417996D19F3DDEA"},
};

std::string lower(std::string s) {
  for (char& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

TEST(KeyExchange, EcpRfc5903Examples) {
  for (const auto& e : kRfc5903) {
    auto initiator = KeyExchange::from_private(e.group, from_hex(e.i));
    auto responder = KeyExchange::from_private(e.group, from_hex(e.r));
    ASSERT_TRUE(initiator && responder) << e.group;
    EXPECT_EQ(initiator->group(), e.group);
    EXPECT_EQ(to_hex(initiator->public_value()), lower(e.gi));
    EXPECT_EQ(to_hex(responder->public_value()), lower(e.gr));
    auto gir_i = initiator->shared_secret(from_hex(e.gr));
    auto gir_r = responder->shared_secret(from_hex(e.gi));
    ASSERT_TRUE(gir_i && gir_r);
    EXPECT_EQ(to_hex(gir_i->view()), lower(e.girx));
    EXPECT_EQ(to_hex(gir_r->view()), lower(e.girx));
  }
}

TEST(KeyExchange, EcpRejectsPointsOffTheCurveAndBadLengths) {
  for (const auto& e : kRfc5903) {
    auto kx = KeyExchange::from_private(e.group, from_hex(e.i));
    ASSERT_TRUE(kx);
    const Bytes good = from_hex(e.gr);
    for (std::size_t i : {std::size_t{0}, good.size() / 2 - 1, good.size() / 2, good.size() - 1}) {
      Bytes bad = good;
      bad[i] ^= 0x01;
      EXPECT_FALSE(kx->shared_secret(bad)) << "group " << e.group << " octet " << i;
    }
    EXPECT_FALSE(kx->shared_secret(Bytes(good.size(), 0)));  // the point at infinity's stand-in
    EXPECT_FALSE(kx->shared_secret(Bytes(good.begin(), good.end() - 1)));
    EXPECT_FALSE(kx->shared_secret(cat(Bytes{0x04}, good)));  // SEC 1 prefix is not KE data
    // Private keys out of range: zero, and the all-ones value above the order.
    EXPECT_FALSE(KeyExchange::from_private(e.group, Bytes(good.size() / 2, 0)));
    EXPECT_FALSE(KeyExchange::from_private(e.group, Bytes(good.size() / 2, 0xff)));
    EXPECT_FALSE(KeyExchange::from_private(e.group, Bytes(good.size() / 2 + 1, 1)));
  }
}

TEST(KeyExchange, GeneratedPairsAgree) {
  for (uint16_t g : {14, 15, 19, 20, 21, 31}) {
    auto a = KeyExchange::generate(g);
    auto b = KeyExchange::generate(g);
    ASSERT_TRUE(a && b) << g;
    EXPECT_EQ(a->public_value().size(), a->public_value_size());
    auto ab = a->shared_secret(b->public_value());
    auto ba = b->shared_secret(a->public_value());
    ASSERT_TRUE(ab && ba) << g;
    EXPECT_EQ(to_hex(ab->view()), to_hex(ba->view())) << g;
    EXPECT_NE(to_hex(a->public_value()), to_hex(b->public_value()));
    KeyExchange moved = std::move(*a);
    EXPECT_EQ(moved.group(), g);
    EXPECT_TRUE(moved.shared_secret(b->public_value()));
  }
}

// MODP y = 2^x mod p with the prime read from rfc3526.txt, in Python.
constexpr const char* kPythonModp = R"(
import sys
p, x, peer = (int(v, 16) for v in sys.argv[1:4])
size = (p.bit_length() + 7) // 8
print(pow(2, x, p).to_bytes(size, 'big').hex(), pow(peer, x, p).to_bytes(size, 'big').hex())
)";

std::string rfc3526_prime(const std::string& group_comment) {
  const std::string text =
      testing::read_text_file(testing::vectors_dir() + "/asymmetric/DH/rfc3526.txt");
  // Each prime follows the comment naming its group ("... Also known as group14").
  const auto at = text.find(group_comment);
  if (at == std::string::npos)
    throw std::runtime_error("rfc3526.txt lacks " + group_comment);
  const auto records = testing::parse_vector_file(text.substr(at));
  if (records.empty() || !records.front().has("P"))
    throw std::runtime_error("no P after comment");
  return records.front().at("P");
}

TEST(KeyExchange, ModpMatchesRfc3526PrimeInPython) {
  for (auto [group, comment] :
       {std::pair<uint16_t, const char*>{kGroupModp2048, "group14"}, {kGroupModp3072, "group15"}}) {
    const std::string prime_hex = rfc3526_prime(comment);
    const Bytes prime = from_hex(prime_hex);
    Bytes x(32), peer_x(32);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<uint8_t>(0xa5 ^ (i * 13));
      peer_x[i] = static_cast<uint8_t>(0x3c + i * 7);
    }
    auto ours = KeyExchange::from_private(group, x);
    auto peer = KeyExchange::from_private(group, peer_x);
    ASSERT_TRUE(ours && peer);
    const Bytes peer_public = peer->public_value();
    ASSERT_EQ(peer_public.size(), prime.size());
    const std::string python =
        testing::run_python(kPythonModp, {prime_hex, to_hex(x), to_hex(peer_public)});
    const auto space = python.find(' ');
    ASSERT_NE(space, std::string::npos);
    EXPECT_EQ(to_hex(ours->public_value()), python.substr(0, space)) << group;
    auto secret = ours->shared_secret(peer_public);
    ASSERT_TRUE(secret) << secret.error();
    EXPECT_EQ(to_hex(secret->view()), python.substr(space + 1)) << group;

    // 1 < y < p - 1, exact length.
    Bytes p_minus_1 = prime;
    p_minus_1.back() -= 1;
    Bytes one(prime.size(), 0);
    one.back() = 1;
    EXPECT_FALSE(ours->shared_secret(prime));
    EXPECT_FALSE(ours->shared_secret(p_minus_1));
    EXPECT_FALSE(ours->shared_secret(one));
    EXPECT_FALSE(ours->shared_secret(Bytes(prime.size(), 0)));
    EXPECT_FALSE(ours->shared_secret(Bytes(prime.size(), 0xff)));
    EXPECT_FALSE(ours->shared_secret(Bytes(peer_public.begin() + 1, peer_public.end())));
    EXPECT_FALSE(KeyExchange::from_private(group, prime));
    EXPECT_FALSE(KeyExchange::from_private(group, Bytes{1}));
  }
}

// The hex after a "label:" line in `openssl pkey -text` output.
Bytes openssl_text_field(const std::string& text, const std::string& label) {
  std::istringstream lines(text);
  std::string line, hex;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (!inside) {
      inside = line == label;
      continue;
    }
    if (line.empty() || line[0] != ' ')
      break;
    for (char ch : line) {
      if (std::isxdigit(static_cast<unsigned char>(ch)))
        hex += ch;
    }
  }
  if (hex.empty())
    throw std::runtime_error("openssl output lacks " + label);
  return from_hex(hex);
}

struct CliCase {
  uint16_t group;
  const char* genpkey_args;
  const char* priv_label;
  const char* pub_label;
  std::size_t priv_size;  // 0: the scalar as printed, leading zero octets dropped
};

// Independent implementation: the openssl CLI generates two keys and derives;
// we load its private key and its peer's public value and must agree.
TEST(KeyExchange, AgreesWithOpensslCli) {
  const CliCase cases[] = {
      {kGroupModp2048, "-algorithm DH -pkeyopt group:modp_2048", "private-key:", "public-key:", 0},
      {kGroupEcp256, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "priv:", "pub:", 32},
      {kGroupEcp384, "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "priv:", "pub:", 48},
      {kGroupCurve25519, "-algorithm X25519", "priv:", "pub:", 32},
  };
  const std::string cli = testing::openssl_cli();
  for (const auto& c : cases) {
    const std::string a = testing::write_temp_file({});
    const std::string b = testing::write_temp_file({});
    const std::string b_pub = testing::write_temp_file({});
    const std::string out = testing::write_temp_file({});
    testing::run_command(cli + " genpkey " + c.genpkey_args + " -out " + a + " 2>/dev/null");
    testing::run_command(cli + " genpkey " + c.genpkey_args + " -out " + b + " 2>/dev/null");
    testing::run_command(cli + " pkey -in " + b + " -pubout -out " + b_pub);
    testing::run_command(cli + " pkeyutl -derive -inkey " + a + " -peerkey " + b_pub + " -out " +
                         out);
    const std::string a_text = testing::run_command(cli + " pkey -in " + a + " -text -noout");
    const std::string b_text = testing::run_command(cli + " pkey -in " + b + " -text -noout");
    const std::string cli_output = testing::read_text_file(out);
    const Bytes cli_secret(cli_output.begin(), cli_output.end());
    for (const auto& path : {a, b, b_pub, out})
      std::remove(path.c_str());

    Bytes a_priv = openssl_text_field(a_text, c.priv_label);
    if (c.priv_size != 0)
      a_priv = fit(testing::to_hex(a_priv), c.priv_size);
    while (c.priv_size == 0 && a_priv.size() > 1 && a_priv[0] == 0)
      a_priv.erase(a_priv.begin());
    Bytes b_pub_value = openssl_text_field(b_text, c.pub_label);
    Bytes a_pub_value = openssl_text_field(a_text, c.pub_label);
    auto ours = KeyExchange::from_private(c.group, a_priv);
    ASSERT_TRUE(ours) << c.group;
    if (c.group == kGroupEcp256 || c.group == kGroupEcp384) {
      // openssl prints SEC 1 "04 || x || y"; KE data is x || y.
      ASSERT_EQ(b_pub_value.at(0), 0x04);
      b_pub_value.erase(b_pub_value.begin());
      a_pub_value.erase(a_pub_value.begin());
    }
    const std::size_t size = ours->public_value_size();
    if (c.group == kGroupModp2048) {
      b_pub_value = fit(testing::to_hex(b_pub_value), size);
      a_pub_value = fit(testing::to_hex(a_pub_value), size);
    }
    EXPECT_EQ(to_hex(ours->public_value()), to_hex(a_pub_value)) << c.group;
    auto secret = ours->shared_secret(b_pub_value);
    ASSERT_TRUE(secret) << c.group << ": " << secret.error();
    // The CLI may strip a DH result's leading zeros; IKE pads to the prime's size.
    Bytes expected = cli_secret;
    if (c.group == kGroupModp2048)
      expected = fit(testing::to_hex(cli_secret), secret->size());
    EXPECT_EQ(to_hex(secret->view()), to_hex(expected)) << c.group;
  }
}

}  // namespace
}  // namespace traverse::ike
