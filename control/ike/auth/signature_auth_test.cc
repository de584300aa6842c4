// Signature AUTH data: round trips for every method and key, agreement with
// the openssl CLI in both directions, RFC 7427 Appendix A encodings, and
// hostile AUTH data.
#include "control/ike/auth/signature_auth.hh"

#include <gtest/gtest.h>

#include "control/ike/auth/test_pki.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::pki_path;
using testing::read_file;
using testing::run;
using testing::write_file;

// RFC 7427 Appendix A ("Commonly Used ASN.1 Objects"), the DER of each
// AlgorithmIdentifier as published:
//   A.1.1 sha1WithRSAEncryption    300d 0609 2a86 4886 f70d 0101 0505 00
//   A.1.2 sha256WithRSAEncryption  300d 0609 2a86 4886 f70d 0101 0b05 00
//   A.1.3 sha384WithRSAEncryption  300d 0609 2a86 4886 f70d 0101 0c05 00
//   A.1.4 sha512WithRSAEncryption  300d 0609 2a86 4886 f70d 0101 0d05 00
//   A.3.1 ecdsa-with-sha1          3009 0607 2a86 48ce 3d04 01
//   A.3.2 ecdsa-with-sha256        300a 0608 2a86 48ce 3d04 0302
//   A.3.3 ecdsa-with-sha384        300a 0608 2a86 48ce 3d04 0303
//   A.3.4 ecdsa-with-sha512        300a 0608 2a86 48ce 3d04 0304
//   A.4.1 RSASSA-PSS with empty parameters    300b 0609 2a86 4886 f70d 0101 0a
//   A.4.2 RSASSA-PSS with default parameters  300d 0609 2a86 4886 f70d 0101 0a30 00
//   A.2.2 dsa-with-sha256          300d 0609 6086 4801 6503 0403 02
const Bytes sha1_rsa = from_hex("300d 0609 2a86 4886 f70d 0101 0505 00");
const Bytes sha256_rsa = from_hex("300d 0609 2a86 4886 f70d 0101 0b05 00");
const Bytes sha384_rsa = from_hex("300d 0609 2a86 4886 f70d 0101 0c05 00");
const Bytes sha512_rsa = from_hex("300d 0609 2a86 4886 f70d 0101 0d05 00");
const Bytes ecdsa_sha1 = from_hex("3009 0607 2a86 48ce 3d04 01");
const Bytes ecdsa_sha256 = from_hex("300a 0608 2a86 48ce 3d04 0302");
const Bytes ecdsa_sha384 = from_hex("300a 0608 2a86 48ce 3d04 0303");
const Bytes ecdsa_sha512 = from_hex("300a 0608 2a86 48ce 3d04 0304");
const Bytes pss_empty = from_hex("300b 0609 2a86 4886 f70d 0101 0a");
const Bytes pss_default = from_hex("300d 0609 2a86 4886 f70d 0101 0a30 00");
const Bytes dsa_sha256 = from_hex("300d 0609 6086 4801 6503 0403 02");

Bytes signed_octets() {
  Bytes octets(300);
  for (std::size_t i = 0; i < octets.size(); ++i)
    octets[i] = static_cast<uint8_t>(i * 7 + 3);
  return octets;
}

PrivateKey key(const std::string& name) {
  auto loaded = PrivateKey::load(pki_path(name + ".key"));
  if (!loaded)
    ADD_FAILURE() << loaded.error();
  return std::move(*loaded);
}

Certificate cert(const std::string& name) {
  auto loaded = Certificate::load(pki_path(name + ".pem"));
  if (!loaded)
    ADD_FAILURE() << loaded.error();
  return std::move(*loaded);
}

Bytes method14(ByteView algorithm, ByteView signature) {
  Bytes data{static_cast<uint8_t>(algorithm.size())};
  data.insert(data.end(), algorithm.begin(), algorithm.end());
  data.insert(data.end(), signature.begin(), signature.end());
  return data;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(SignatureAlgorithm, EncodesRfc7427AppendixA) {
  using H = HashAlgorithm;
  using S = SignatureScheme;
  EXPECT_EQ(encode_algorithm_identifier({S::rsa_pkcs1, H::sha1, H::sha1, 0}), sha1_rsa);
  EXPECT_EQ(encode_algorithm_identifier({S::rsa_pkcs1, H::sha256, H::sha256, 0}), sha256_rsa);
  EXPECT_EQ(encode_algorithm_identifier({S::rsa_pkcs1, H::sha384, H::sha384, 0}), sha384_rsa);
  EXPECT_EQ(encode_algorithm_identifier({S::rsa_pkcs1, H::sha512, H::sha512, 0}), sha512_rsa);
  EXPECT_EQ(encode_algorithm_identifier({S::ecdsa, H::sha1, H::sha1, 0}), ecdsa_sha1);
  EXPECT_EQ(encode_algorithm_identifier({S::ecdsa, H::sha256, H::sha256, 0}), ecdsa_sha256);
  EXPECT_EQ(encode_algorithm_identifier({S::ecdsa, H::sha384, H::sha384, 0}), ecdsa_sha384);
  EXPECT_EQ(encode_algorithm_identifier({S::ecdsa, H::sha512, H::sha512, 0}), ecdsa_sha512);
  EXPECT_EQ(encode_algorithm_identifier({S::rsa_pss, H::sha1, H::sha1, 20}), pss_default);
  // RSASSA-PSS with SHA-256: compared with the AlgorithmIdentifier OpenSSL
  // writes into a certificate signed with -sigopt rsa_padding_mode:pss.
  Bytes openssl_pss = read_file(pki_path("rsa-pss-alg.der"));
  ASSERT_FALSE(openssl_pss.empty());
  EXPECT_EQ(encode_algorithm_identifier(rsa_pss_algorithm(H::sha256)), openssl_pss);
}

TEST(SignatureAlgorithm, ParsesWhatItEncodes) {
  using H = HashAlgorithm;
  using S = SignatureScheme;
  const SignatureAlgorithm algorithms[] = {
      {S::rsa_pkcs1, H::sha1, H::sha1, 0},     {S::rsa_pkcs1, H::sha512, H::sha512, 0},
      {S::ecdsa, H::sha384, H::sha384, 0},     rsa_pss_algorithm(H::sha384),
      {S::rsa_pss, H::sha512, H::sha256, 200},
  };
  for (const auto& algorithm : algorithms) {
    auto parsed = parse_algorithm_identifier(encode_algorithm_identifier(algorithm));
    ASSERT_TRUE(parsed) << to_string(algorithm) << ": " << parsed.error();
    if (algorithm.scheme == S::rsa_pss) {
      EXPECT_EQ(*parsed, algorithm) << to_string(algorithm);
    } else {
      EXPECT_EQ(parsed->scheme, algorithm.scheme);
      EXPECT_EQ(parsed->hash, algorithm.hash);
    }
  }
  // A.4.1 / A.4.2: absent or empty PSS parameters mean SHA-1, MGF1-SHA-1, salt 20.
  for (const Bytes& der : {pss_empty, pss_default}) {
    auto parsed = parse_algorithm_identifier(der);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(*parsed, (SignatureAlgorithm{S::rsa_pss, H::sha1, H::sha1, 20}));
  }
  auto openssl_pss = parse_algorithm_identifier(read_file(pki_path("rsa-pss-alg.der")));
  ASSERT_TRUE(openssl_pss) << openssl_pss.error();
  EXPECT_EQ(*openssl_pss, rsa_pss_algorithm(H::sha256));
}

TEST(SignatureAlgorithm, RejectsMalformedAndUnknown) {
  const Bytes bad[] = {
      {},
      dsa_sha256,                                                // A.2.2: known OID, unsupported
      from_hex("300e 0609 2a86 4886 f70d 0101 0b05 00"),         // SEQUENCE length lies (too long)
      from_hex("300c 0609 2a86 4886 f70d 0101 0b05 00"),         // SEQUENCE length lies (too short)
      from_hex("300d 060a 2a86 4886 f70d 0101 0b05 00"),         // OID length lies
      from_hex("300d 0609 2a86 4886 f70d 0101 0b05 00 00"),      // trailing byte
      from_hex("3081 0d06 092a 8648 86f7 0d01 010b 0500"),       // non-minimal length (BER)
      from_hex("300c 0608 2a86 48ce 3d04 0302 0500"),            // ECDSA with a NULL parameter
      from_hex("3010 0609 2a86 4886 f70d 0101 0b04 0300 0102"),  // PKCS#1 with parameters
      from_hex("300f 0609 2a86 4886 f70d 0101 0a04 0200 00"),    // PSS parameters not SEQUENCE
      // PSS, trailerField 2 (RFC 4055 requires 1)
      from_hex("3012 0609 2a86 4886 f70d 0101 0a30 05a3 0302 0102"),
      // PSS, MGF other than MGF1 (the hash OID in its place)
      from_hex("3021 0609 2a86 4886 f70d 0101 0a30 14a1 1230 1006 0960 8648 0165 0304 0201"
               "3003 0601 00"),
      // PSS, negative salt length
      from_hex("3012 0609 2a86 4886 f70d 0101 0a30 05a2 0302 01ff"),
      // PSS with MD5 as the hash
      from_hex("301e 0609 2a86 4886 f70d 0101 0a30 11a0 0f30 0d06 092a 8648 86f7 0d02 0505 00"),
      from_hex("3003 0601 00"),
  };
  for (const Bytes& der : bad) {
    auto parsed = parse_algorithm_identifier(der);
    EXPECT_FALSE(parsed) << "accepted " << ::testing::PrintToString(der);
  }
}

struct SignCase {
  std::string key;
  std::vector<uint16_t> peer_hashes;
  uint8_t method;
  Bytes algorithm;         // expected AlgorithmIdentifier under method 14
  std::size_t fixed_size;  // expected data size for methods 9/10/11
};

TEST(SignatureAuth, PicksTheMethodAndRoundTrips) {
  const SignCase cases[] = {
      {"rsa", {}, auth_method::rsa_sig, {}, 0},
      {"rsa", {1}, auth_method::rsa_sig, {}, 0},
      {"rsa", {5}, auth_method::rsa_sig, {}, 0},
      {"rsa", {2}, auth_method::digital_signature, sha256_rsa, 0},
      {"rsa", {2, 3}, auth_method::digital_signature, sha384_rsa, 0},
      {"rsa", {4, 2, 3}, auth_method::digital_signature, sha512_rsa, 0},
      {"p256", {}, auth_method::ecdsa_256, {}, 64},
      {"p256", {2}, auth_method::digital_signature, ecdsa_sha256, 0},
      {"p256", {1, 2, 3}, auth_method::digital_signature, ecdsa_sha384, 0},
      {"p384", {}, auth_method::ecdsa_384, {}, 96},
      {"p384", {2, 3, 4}, auth_method::digital_signature, ecdsa_sha512, 0},
      {"p521", {}, auth_method::ecdsa_521, {}, 132},
      {"p521", {3}, auth_method::digital_signature, ecdsa_sha384, 0},
  };
  Bytes octets = signed_octets();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key + " with " + ::testing::PrintToString(c.peer_hashes));
    auto auth = sign_auth(key(c.key), octets, c.peer_hashes);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->method, c.method);
    if (c.method == auth_method::digital_signature) {
      ASSERT_GT(auth->data.size(), 1 + c.algorithm.size());
      EXPECT_EQ(auth->data[0], c.algorithm.size());
      EXPECT_EQ(Bytes(auth->data.begin() + 1, auth->data.begin() + 1 + c.algorithm.size()),
                c.algorithm);
    } else if (c.fixed_size != 0) {
      EXPECT_EQ(auth->data.size(), c.fixed_size);
    } else {
      EXPECT_EQ(auth->data.size(), 256u);  // RSA-2048
    }
    Certificate signer = cert(c.key);
    auto verified = verify_auth(signer, auth->method, auth->data, octets);
    EXPECT_TRUE(verified) << verified.error();
    Bytes other = signed_octets();
    other.at(17) ^= 0x20;

    EXPECT_FALSE(verify_auth(signer, auth->method, auth->data, other));
    // Another certificate with the same kind of key does not verify it.
    Certificate stranger = cert(c.key == "rsa" ? "intermediate" : "stranger");
    EXPECT_FALSE(verify_auth(stranger, auth->method, auth->data, octets));
  }
}

TEST(SignatureAuth, RsaPssRoundTrips) {
  Bytes octets = signed_octets();
  auto auth = sign_auth(key("rsa"), octets, {2, 3}, SignOptions{.rsa_pss = true});
  ASSERT_TRUE(auth) << auth.error();
  EXPECT_EQ(auth->method, auth_method::digital_signature);
  Bytes algorithm = encode_algorithm_identifier(rsa_pss_algorithm(HashAlgorithm::sha384));
  EXPECT_EQ(Bytes(auth->data.begin() + 1, auth->data.begin() + 1 + algorithm.size()), algorithm);
  EXPECT_TRUE(verify_auth(cert("rsa"), auth->method, auth->data, octets));
  // PSS is randomized: two signatures differ and both verify.
  auto again = sign_auth(key("rsa"), octets, {2, 3}, SignOptions{.rsa_pss = true});
  ASSERT_TRUE(again);
  EXPECT_NE(again->data, auth->data);
  EXPECT_TRUE(verify_auth(cert("rsa"), again->method, again->data, octets));
}

// ---- the openssl CLI as an independent implementation ----

class OpensslCli : public ::testing::Test {
 protected:
  void SetUp() override {
    octets_ = signed_octets();
    octets_path_ = pki_path("octets.bin");
    write_file(octets_path_, octets_);
  }
  // openssl dgst -<hash> -sign <key> [options] over the octets.
  Bytes cli_sign(const std::string& key_name, const std::string& hash,
                 const std::string& options = "") {
    std::string out = pki_path("cli.sig");
    auto result = run("openssl dgst -" + hash + " -sign '" + pki_path(key_name + ".key") + "' " +
                      options + " -out '" + out + "' '" + octets_path_ + "'");
    EXPECT_EQ(result.status, 0);
    return read_file(out);
  }
  // openssl dgst -<hash> -verify <public key of cert> over the octets.
  bool cli_verify(const std::string& cert_name, const std::string& hash, ByteView signature,
                  const std::string& options = "") {
    std::string sig = pki_path("ours.sig");
    std::string pub = pki_path(cert_name + ".pub");
    write_file(sig, signature);
    if (run("openssl x509 -in '" + pki_path(cert_name + ".pem") + "' -pubkey -noout > '" + pub +
            "'")
            .status != 0) {
      return false;
    }
    auto result = run("openssl dgst -" + hash + " -verify '" + pub + "' " + options +
                      " -signature '" + sig + "' '" + octets_path_ + "'");
    return result.status == 0 && contains(result.output, "Verified OK");
  }
  // DER ECDSA-Sig-Value <-> r||s, done by Python, not by our code.
  Bytes python_der_to_fixed(ByteView der, int width) {
    write_file(pki_path("conv.in"), der);
    auto result =
        run("python3 -c \"import sys\n"
            "d=open(sys.argv[1],'rb').read()\n"
            "i=2 if d[1]<0x80 else 2+(d[1]&0x7f)\n"
            "out=b''\n"
            "for _ in range(2):\n"
            "  n=d[i+1]; out+=int.from_bytes(d[i+2:i+2+n],'big').to_bytes(int(sys.argv[3]),'big'); "
            "i+=2+n\n"
            "open(sys.argv[2],'wb').write(out)\" '" +
            pki_path("conv.in") + "' '" + pki_path("conv.out") + "' " + std::to_string(width));
    EXPECT_EQ(result.status, 0) << result.output;
    return read_file(pki_path("conv.out"));
  }
  Bytes python_fixed_to_der(ByteView fixed) {
    write_file(pki_path("conv.in"), fixed);
    auto result =
        run("python3 -c \"import sys\n"
            "d=open(sys.argv[1],'rb').read(); w=len(d)//2\n"
            "def integer(b):\n"
            "  v=int.from_bytes(b,'big'); n=(v.bit_length()+8)//8\n"
            "  return bytes([2,n])+v.to_bytes(n,'big')\n"
            "body=integer(d[:w])+integer(d[w:])\n"
            "hdr=bytes([0x30,len(body)]) if len(body)<128 else bytes([0x30,0x81,len(body)])\n"
            "open(sys.argv[2],'wb').write(hdr+body)\" '" +
            pki_path("conv.in") + "' '" + pki_path("conv.out") + "'");
    EXPECT_EQ(result.status, 0) << result.output;
    return read_file(pki_path("conv.out"));
  }
  Bytes octets_;
  std::string octets_path_;
};

TEST_F(OpensslCli, WeVerifyCliSignatures) {
  struct Case {
    std::string key;
    std::string hash;
    Bytes algorithm;
  };
  const Case digital[] = {{"rsa", "sha256", sha256_rsa},    {"rsa", "sha384", sha384_rsa},
                          {"rsa", "sha512", sha512_rsa},    {"p256", "sha256", ecdsa_sha256},
                          {"p384", "sha384", ecdsa_sha384}, {"p521", "sha512", ecdsa_sha512},
                          {"p256", "sha512", ecdsa_sha512}};
  for (const auto& c : digital) {
    SCOPED_TRACE(c.key + " " + c.hash);
    Bytes signature = cli_sign(c.key, c.hash);
    ASSERT_FALSE(signature.empty());
    auto verified = verify_auth(cert(c.key), auth_method::digital_signature,
                                method14(c.algorithm, signature), octets_);
    EXPECT_TRUE(verified) << verified.error();
  }
  // Method 1: PKCS#1 v1.5 with SHA-1.
  Bytes rsa_sha1 = cli_sign("rsa", "sha1");
  auto method1 = verify_auth(cert("rsa"), auth_method::rsa_sig, rsa_sha1, octets_);
  EXPECT_TRUE(method1) << method1.error();
  // Methods 9/10/11: r||s from the CLI's DER signature.
  const std::tuple<std::string, std::string, uint8_t, int> fixed[] = {
      {"p256", "sha256", auth_method::ecdsa_256, 32},
      {"p384", "sha384", auth_method::ecdsa_384, 48},
      {"p521", "sha512", auth_method::ecdsa_521, 66}};
  for (const auto& [name, hash, method, width] : fixed) {
    Bytes rs = python_der_to_fixed(cli_sign(name, hash), width);
    ASSERT_EQ(rs.size(), static_cast<std::size_t>(2 * width));
    auto verified = verify_auth(cert(name), method, rs, octets_);
    EXPECT_TRUE(verified) << name << ": " << verified.error();
  }
  // RSASSA-PSS by the CLI, with OpenSSL's own AlgorithmIdentifier for it.
  Bytes pss = cli_sign("rsa", "sha256",
                       "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
                       "-sigopt rsa_mgf1_md:sha256");
  auto pss_verified = verify_auth(cert("rsa"), auth_method::digital_signature,
                                  method14(read_file(pki_path("rsa-pss-alg.der")), pss), octets_);
  EXPECT_TRUE(pss_verified) << pss_verified.error();
  // The same PSS signature under parameters that do not match (salt 20) fails.
  Bytes wrong_salt = encode_algorithm_identifier(
      {SignatureScheme::rsa_pss, HashAlgorithm::sha256, HashAlgorithm::sha256, 20});
  EXPECT_FALSE(
      verify_auth(cert("rsa"), auth_method::digital_signature, method14(wrong_salt, pss), octets_));
}

TEST_F(OpensslCli, CliVerifiesOurSignatures) {
  auto rsa = sign_auth(key("rsa"), octets_, {2, 3});
  ASSERT_TRUE(rsa);
  EXPECT_TRUE(cli_verify("rsa", "sha384", ByteView(rsa->data).subspan(1 + sha384_rsa.size())));
  auto rsa1 = sign_auth(key("rsa"), octets_, {});
  ASSERT_TRUE(rsa1);
  EXPECT_TRUE(cli_verify("rsa", "sha1", rsa1->data));
  auto pss = sign_auth(key("rsa"), octets_, {2}, SignOptions{.rsa_pss = true});
  ASSERT_TRUE(pss);
  Bytes pss_algorithm = encode_algorithm_identifier(rsa_pss_algorithm(HashAlgorithm::sha256));
  EXPECT_TRUE(cli_verify("rsa", "sha256", ByteView(pss->data).subspan(1 + pss_algorithm.size()),
                         "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32"));
  auto p384 = sign_auth(key("p384"), octets_, {4});
  ASSERT_TRUE(p384);
  EXPECT_TRUE(cli_verify("p384", "sha512", ByteView(p384->data).subspan(1 + ecdsa_sha512.size())));
  auto p256 = sign_auth(key("p256"), octets_, {});
  ASSERT_TRUE(p256);
  EXPECT_TRUE(cli_verify("p256", "sha256", python_fixed_to_der(p256->data)));
  auto p521 = sign_auth(key("p521"), octets_, {});
  ASSERT_TRUE(p521);
  EXPECT_TRUE(cli_verify("p521", "sha512", python_fixed_to_der(p521->data)));
  // And the CLI rejects a signature over other octets (the check can fail).
  Bytes flipped = p384->data;
  flipped.back() ^= 0x01;
  EXPECT_FALSE(cli_verify("p384", "sha512", ByteView(flipped).subspan(1 + ecdsa_sha512.size())));
}

TEST_F(OpensslCli, Sha1UnderMethod14NeedsTheFlag) {
  Bytes rsa_sig = cli_sign("rsa", "sha1");
  Bytes ec_sig = cli_sign("p256", "sha1");
  VerifyOptions allow{.allow_sha1_digital_signature = true};
  for (const auto& [name, data] :
       {std::pair<std::string, Bytes>{"rsa", method14(sha1_rsa, rsa_sig)},
        std::pair<std::string, Bytes>{"p256", method14(ecdsa_sha1, ec_sig)}}) {
    auto refused = verify_auth(cert(name), auth_method::digital_signature, data, octets_);
    ASSERT_FALSE(refused) << name;
    EXPECT_TRUE(contains(refused.error(), "SHA-1")) << refused.error();
    auto allowed = verify_auth(cert(name), auth_method::digital_signature, data, octets_, allow);
    EXPECT_TRUE(allowed) << name << ": " << allowed.error();
  }
}

// ---- hostile AUTH data ----

TEST(SignatureAuth, RejectsHostileDigitalSignatureData) {
  Bytes octets = signed_octets();
  Certificate rsa_cert = cert("rsa");
  Certificate ec_cert = cert("p256");
  auto good = sign_auth(key("p256"), octets, {2});
  ASSERT_TRUE(good);
  ASSERT_TRUE(verify_auth(ec_cert, good->method, good->data, octets));
  const Bytes& data = good->data;

  auto refuse = [&](const Certificate& signer, uint8_t method, ByteView auth, std::string why) {
    auto verified = verify_auth(signer, method, auth, octets);
    EXPECT_FALSE(verified) << why;
    if (!verified) {
      EXPECT_FALSE(verified.error().empty()) << why;
    }
  };
  refuse(ec_cert, 14, Bytes{}, "empty");
  refuse(ec_cert, 14, Bytes{0x00, 0x30}, "zero-length AlgorithmIdentifier");
  for (std::size_t length = 1; length < data.size(); length += 7) {
    refuse(ec_cert, 14, ByteView(data).first(length), "truncated to " + std::to_string(length));
  }
  refuse(ec_cert, 14, ByteView(data).first(1 + ecdsa_sha256.size()), "no signature");
  // The 1-octet length disagrees with the DER length, both ways.
  for (int delta : {-1, +1, +0x40}) {
    Bytes lying = data;
    lying[0] = static_cast<uint8_t>(lying[0] + delta);
    refuse(ec_cert, 14, lying, "length byte " + std::to_string(delta));
  }
  Bytes inner = data;
  inner[2] = 0x0b;  // SEQUENCE length inside the AlgorithmIdentifier
  refuse(ec_cert, 14, inner, "inner length");
  // Trailing garbage after the DER ECDSA signature.
  Bytes trailing = data;
  trailing.push_back(0x00);
  refuse(ec_cert, 14, trailing, "trailing byte");
  // The algorithm does not fit the key, in both directions.
  auto rsa_auth = sign_auth(key("rsa"), octets, {2});
  ASSERT_TRUE(rsa_auth);
  auto wrong_key = verify_auth(ec_cert, 14, rsa_auth->data, octets);
  ASSERT_FALSE(wrong_key);
  EXPECT_TRUE(contains(wrong_key.error(), "does not match")) << wrong_key.error();
  refuse(rsa_cert, 14, data, "ECDSA algorithm for an RSA key");
  Bytes relabeled = method14(sha256_rsa, ByteView(data).subspan(1 + ecdsa_sha256.size()));
  refuse(ec_cert, 14, relabeled, "RSA label on an ECDSA signature");
  refuse(ec_cert, 14, method14(dsa_sha256, ByteView(data).subspan(1 + ecdsa_sha256.size())), "DSA");
  // Every single bit flip anywhere in the AUTH data is caught.
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    Bytes flipped = data;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_FALSE(verify_auth(ec_cert, 14, flipped, octets)) << "bit " << bit;
  }
  for (std::size_t bit = 0; bit < rsa_auth->data.size() * 8; bit += 3) {
    Bytes flipped = rsa_auth->data;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_FALSE(verify_auth(rsa_cert, 14, flipped, octets)) << "bit " << bit;
  }
}

TEST(SignatureAuth, RejectsHostileLegacyData) {
  Bytes octets = signed_octets();
  auto p256 = sign_auth(key("p256"), octets, {});
  auto p384 = sign_auth(key("p384"), octets, {});
  auto rsa = sign_auth(key("rsa"), octets, {});
  ASSERT_TRUE(p256 && p384 && rsa);
  // Method and curve must agree (RFC 4754).
  EXPECT_FALSE(verify_auth(cert("p384"), auth_method::ecdsa_256, p256->data, octets));
  EXPECT_FALSE(verify_auth(cert("p256"), auth_method::ecdsa_384, p384->data, octets));
  EXPECT_FALSE(verify_auth(cert("p256"), auth_method::rsa_sig, p256->data, octets));
  EXPECT_FALSE(verify_auth(cert("rsa"), auth_method::ecdsa_256, rsa->data, octets));
  // Fixed-width r||s: any other length is refused.
  for (std::size_t size : {0u, 1u, 63u, 65u, 128u}) {
    Bytes resized = p256->data;
    resized.resize(size);
    EXPECT_FALSE(verify_auth(cert("p256"), auth_method::ecdsa_256, resized, octets)) << size;
  }
  EXPECT_FALSE(verify_auth(cert("p256"), auth_method::ecdsa_256, Bytes(64, 0), octets));
  EXPECT_FALSE(verify_auth(cert("p256"), auth_method::ecdsa_256, Bytes(64, 0xff), octets));
  Bytes short_rsa(rsa->data.begin(), rsa->data.end() - 1);
  EXPECT_FALSE(verify_auth(cert("rsa"), auth_method::rsa_sig, short_rsa, octets));
  EXPECT_FALSE(verify_auth(cert("rsa"), auth_method::rsa_sig, Bytes{}, octets));
  EXPECT_FALSE(verify_auth(cert("rsa"), auth_method::rsa_sig, Bytes(5000, 1), octets));
  for (std::size_t bit = 0; bit < p384->data.size() * 8; bit += 5) {
    Bytes flipped = p384->data;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_FALSE(verify_auth(cert("p384"), auth_method::ecdsa_384, flipped, octets)) << bit;
  }
  // Not signature methods at all.
  for (uint8_t method : {uint8_t{0}, auth_method::psk, uint8_t{3}, uint8_t{12}, uint8_t{255}}) {
    auto verified = verify_auth(cert("rsa"), method, rsa->data, octets);
    ASSERT_FALSE(verified);
    EXPECT_TRUE(contains(verified.error(), "not a signature method")) << verified.error();
  }
}

TEST(SignatureAuth, NotifyData) {
  // RFC 7427 section 4: 2-octet Hash Algorithm values; 2 = SHA2-256,
  // 3 = SHA2-384, 4 = SHA2-512 (IANA "IKEv2 Hash Algorithms").
  EXPECT_EQ(signature_hash_algorithms_notify_data(), from_hex("0002 0003 0004"));
  auto parsed = parse_signature_hash_algorithms(from_hex("0002 0003 0004 0005 0001"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, (std::vector<uint16_t>{2, 3, 4, 5, 1}));
  EXPECT_FALSE(parse_signature_hash_algorithms(from_hex("0002 00")));
  auto empty = parse_signature_hash_algorithms({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace traverse::ike
