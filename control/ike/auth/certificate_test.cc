// Certificates, keys and the trust store against a PKI made by the openssl CLI.
#include "control/ike/auth/certificate.hh"

#include <gtest/gtest.h>

#include <ctime>

#include "control/ike/auth/test_pki.hh"
#include "control/ike/auth/trust_store.hh"

namespace traverse::ike {
namespace {

using testing::pki_path;
using testing::read_file;
using testing::run;

Certificate load(const std::string& name) {
  auto cert = Certificate::load(pki_path(name));
  if (!cert)
    ADD_FAILURE() << cert.error();
  return std::move(*cert);
}

Identity id(std::string_view text) {
  auto parsed = parse_identity(text);
  if (!parsed)
    ADD_FAILURE() << parsed.error();
  return *parsed;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(Certificate, LoadsPemAndDerAlike) {
  Certificate pem = load("rsa.pem");
  Certificate der = load("rsa.der");
  EXPECT_EQ(pem.der(), read_file(pki_path("rsa.der")));
  EXPECT_EQ(der.der(), pem.der());
  auto from_der = Certificate::from_der(read_file(pki_path("rsa.der")));
  ASSERT_TRUE(from_der);
  Certificate copy = *from_der;  // shares the X509 by reference count
  EXPECT_EQ(copy.der(), pem.der());
}

TEST(Certificate, SubjectAndSubjectAltNames) {
  Certificate cert = load("rsa.pem");
  // openssl req writes the same DER for the subject as our DN encoder.
  EXPECT_EQ(cert.subject().data, id("C=CH, O=Traverse, CN=gw.traverse.lab").data);
  EXPECT_EQ(cert.subject_text(), "C=CH, O=Traverse, CN=gw.traverse.lab");
  EXPECT_EQ(cert.issuer(), id("C=CH, O=Traverse, CN=Traverse Test Intermediate"));
  std::vector<Identity> expected{id("fqdn:gw.traverse.lab"), id("email:admin@traverse.lab"),
                                 id("ip:192.0.2.1"), id("ip:2001:db8::1")};
  EXPECT_EQ(cert.subject_alt_names(), expected);
  EXPECT_EQ(cert.key_kind(), KeyKind::rsa);
  EXPECT_FALSE(cert.is_ca());
  EXPECT_TRUE(load("intermediate.pem").is_ca());
  EXPECT_EQ(load("p384.pem").key_kind(), KeyKind::ec);
}

TEST(Certificate, CertifiesItsSubjectAndAltNamesOnly) {
  Certificate cert = load("rsa.pem");
  for (std::string_view yes :
       {"C=CH, O=Traverse, CN=gw.traverse.lab", "c=ch, o=traverse, cn=GW.traverse.lab",
        "gw.traverse.lab", "GW.Traverse.Lab", "admin@traverse.lab", "192.0.2.1", "2001:db8::1"}) {
    EXPECT_TRUE(cert.certifies(id(yes))) << yes;
  }
  for (std::string_view no :
       {"C=CH, O=Traverse, CN=other", "C=CH, O=Traverse", "other.traverse.lab", "traverse.lab",
        "root@traverse.lab", "192.0.2.2", "2001:db8::2", "keyid:01",
        "C=CH, O=Traverse, CN=Traverse Test Intermediate"}) {
    EXPECT_FALSE(cert.certifies(id(no))) << no;
  }
  // An FQDN identity with the subject's bytes is not the DN.
  EXPECT_FALSE(cert.certifies(Identity{id_type::fqdn, cert.subject().data}));
}

TEST(Certificate, RejectsMalformedInput) {
  Bytes der = read_file(pki_path("rsa.der"));
  EXPECT_FALSE(Certificate::from_der(Bytes{}));
  EXPECT_FALSE(Certificate::from_der(Bytes(der.begin(), der.begin() + der.size() / 2)));
  Bytes trailing = der;
  trailing.push_back(0x00);
  auto with_trailing = Certificate::from_der(trailing);
  ASSERT_FALSE(with_trailing);
  EXPECT_TRUE(contains(with_trailing.error(), "trailing"));
  Bytes lying = der;
  lying[3] ^= 0x10;  // outer SEQUENCE length
  EXPECT_FALSE(Certificate::from_der(lying));
  EXPECT_FALSE(Certificate::from_der(Bytes(70000, 0x30)));
  EXPECT_FALSE(
      Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  auto missing = Certificate::load(pki_path("does-not-exist.pem"));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error(), "does-not-exist.pem"));
}

TEST(Certificate, LoadsChainLeafFirst) {
  auto chain = load_certificate_chain(pki_path("rsa-chain.pem"));
  ASSERT_TRUE(chain) << chain.error();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].der(), read_file(pki_path("rsa.der")));
  EXPECT_EQ((*chain)[1].der(), read_file(pki_path("intermediate.der")));

  std::string reversed = pki_path("reversed-chain.pem");
  ASSERT_EQ(run("cat '" + pki_path("intermediate.pem") + "' '" + pki_path("rsa.pem") + "' > '" +
                reversed + "'")
                .status,
            0);
  auto wrong = load_certificate_chain(reversed);
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(contains(wrong.error(), "did not issue")) << wrong.error();
  EXPECT_FALSE(load_certificate_chain(pki_path("rsa.key")));
}

TEST(PrivateKey, LoadsRsaAndEcKeys) {
  auto rsa = PrivateKey::load(pki_path("rsa.key"));
  ASSERT_TRUE(rsa) << rsa.error();
  EXPECT_EQ(rsa->kind(), KeyKind::rsa);
  EXPECT_EQ(rsa->curve_nid(), NID_undef);
  EXPECT_TRUE(rsa->matches(load("rsa.pem")));
  EXPECT_FALSE(rsa->matches(load("p256.pem")));
  auto p384 = PrivateKey::load(pki_path("p384.key"));
  ASSERT_TRUE(p384) << p384.error();
  EXPECT_EQ(p384->kind(), KeyKind::ec);
  EXPECT_EQ(p384->curve_nid(), NID_secp384r1);
  EXPECT_TRUE(p384->matches(load("p384.pem")));
  auto p521 = PrivateKey::load(pki_path("p521.key"));
  ASSERT_TRUE(p521);
  EXPECT_EQ(p521->curve_nid(), NID_secp521r1);
}

TEST(PrivateKey, RefusesWhatItCannotUse) {
  EXPECT_FALSE(PrivateKey::load(pki_path("rsa.pem")));  // a certificate, not a key
  EXPECT_FALSE(PrivateKey::load(pki_path("nothing-here.key")));
  EXPECT_FALSE(PrivateKey::from_pem(as_bytes("garbage")));
  // An encrypted key is refused without prompting for a passphrase.
  std::string encrypted = pki_path("encrypted.key");
  ASSERT_EQ(run("openssl pkey -in '" + pki_path("p256.key") +
                "' -aes256 -passout pass:secret -out '" + encrypted + "' </dev/null")
                .status,
            0);
  auto key = PrivateKey::load(encrypted);
  ASSERT_FALSE(key);
  EXPECT_TRUE(contains(key.error(), "encrypted")) << key.error();
  // Ed25519 is neither RSA nor ECDSA.
  std::string ed = pki_path("ed25519.key");
  ASSERT_EQ(run("openssl genpkey -algorithm ED25519 -out '" + ed + "'").status, 0);
  EXPECT_FALSE(PrivateKey::load(ed));
}

// ---- trust store ----

class TrustStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.add_ca_file(pki_path("root.pem")));
    intermediate_ = read_file(pki_path("intermediate.der"));
  }
  Expected<Certificate, std::string> verify(const std::string& leaf,
                                            std::time_t at = std::time(nullptr)) {
    return store_.verify(read_file(pki_path(leaf + ".der")), {intermediate_}, at);
  }
  TrustStore store_;
  Bytes intermediate_;
};

TEST_F(TrustStoreTest, AcceptsGoodChains) {
  for (std::string leaf : {"rsa", "p256", "p384", "p521", "revoked"}) {
    auto verified = verify(leaf);
    ASSERT_TRUE(verified) << leaf << ": " << verified.error();
    EXPECT_EQ(verified->der(), read_file(pki_path(leaf + ".der")));
  }
}

TEST_F(TrustStoreTest, NamesTheReasonForFailure) {
  auto expired = verify("expired");
  ASSERT_FALSE(expired);
  EXPECT_TRUE(contains(expired.error(), "expired")) << expired.error();
  EXPECT_TRUE(contains(expired.error(), "CN=expired.traverse.lab")) << expired.error();

  auto stranger = store_.verify(read_file(pki_path("stranger.der")), {}, std::time(nullptr));
  ASSERT_FALSE(stranger);
  EXPECT_TRUE(contains(stranger.error(), "unknown CA")) << stranger.error();

  auto no_intermediate = store_.verify(read_file(pki_path("rsa.der")), {}, std::time(nullptr));
  ASSERT_FALSE(no_intermediate);
  EXPECT_TRUE(contains(no_intermediate.error(), "unknown CA")) << no_intermediate.error();

  auto early = verify("rsa", 946684800);  // 2000-01-01, before every notBefore
  ASSERT_FALSE(early);
  EXPECT_TRUE(contains(early.error(), "not yet valid")) << early.error();

  auto late = verify("rsa", 4102444800);  // 2100-01-01, after every notAfter
  ASSERT_FALSE(late);
  EXPECT_TRUE(contains(late.error(), "expired")) << late.error();

  // The trust anchor itself as the "leaf" of another chain is refused too.
  auto self_signed = store_.verify(read_file(pki_path("other-root.pem")), {}, std::time(nullptr));
  EXPECT_FALSE(self_signed);
}

TEST_F(TrustStoreTest, ChecksCrlsForTheWholeChain) {
  ASSERT_TRUE(store_.add_crl_file(pki_path("root.crl")));
  ASSERT_TRUE(store_.add_crl_file(pki_path("intermediate.crl.der")));  // DER works too
  EXPECT_EQ(store_.crl_count(), 2u);
  auto revoked = verify("revoked");
  ASSERT_FALSE(revoked);
  EXPECT_TRUE(contains(revoked.error(), "revoked")) << revoked.error();
  EXPECT_TRUE(contains(revoked.error(), "CN=revoked.traverse.lab")) << revoked.error();
  store_.set_strict_crl(true);  // both issuers have a CRL: good leaves still pass
  EXPECT_TRUE(verify("p256"));
  EXPECT_FALSE(verify("revoked"));
}

TEST_F(TrustStoreTest, MissingCrlIsToleratedUnlessStrict) {
  ASSERT_TRUE(store_.add_crl_file(pki_path("intermediate.crl")));  // no CRL from the root
  auto good = verify("p256");
  EXPECT_TRUE(good) << good.error();
  EXPECT_FALSE(verify("revoked"));
  store_.set_strict_crl(true);
  auto strict = verify("p256");
  ASSERT_FALSE(strict);
  EXPECT_TRUE(contains(strict.error(), "no CRL")) << strict.error();
}

TEST_F(TrustStoreTest, RefusesHostileChains) {
  Bytes leaf = read_file(pki_path("rsa.der"));
  std::vector<Bytes> too_many(9, intermediate_);
  auto many = store_.verify(leaf, too_many, std::time(nullptr));
  ASSERT_FALSE(many);
  EXPECT_TRUE(contains(many.error(), "at most")) << many.error();
  auto garbage = store_.verify(leaf, {Bytes{0x30, 0x03, 0x02, 0x01}}, std::time(nullptr));
  ASSERT_FALSE(garbage);
  EXPECT_TRUE(contains(garbage.error(), "intermediate 1")) << garbage.error();
  EXPECT_FALSE(store_.verify(Bytes{}, {}, std::time(nullptr)));
  // A tampered leaf signature fails even though it parses.
  Bytes tampered = leaf;
  tampered[tampered.size() - 5] ^= 0x01;
  auto bad_signature = store_.verify(tampered, {intermediate_}, std::time(nullptr));
  ASSERT_FALSE(bad_signature);
  EXPECT_TRUE(contains(bad_signature.error(), "signature")) << bad_signature.error();
}

TEST(TrustStore, RefusesBadFiles) {
  TrustStore store;
  EXPECT_FALSE(store.verify(read_file(pki_path("rsa.der")), {}, std::time(nullptr)));
  auto leaf_as_ca = store.add_ca_file(pki_path("rsa.pem"));
  ASSERT_FALSE(leaf_as_ca);
  EXPECT_TRUE(contains(leaf_as_ca.error(), "not a CA"));
  EXPECT_FALSE(store.add_ca_file(pki_path("missing.pem")));
  EXPECT_FALSE(store.add_crl_file(pki_path("root.pem")));
  EXPECT_FALSE(store.add_crl_file(pki_path("missing.crl")));
}

// Independent reference: openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha1.
Bytes cli_spki_sha1(const std::string& cert) {
  auto result = run("openssl x509 -in '" + pki_path(cert) +
                    "' -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha1 -r");
  EXPECT_EQ(result.status, 0);
  return testing::from_hex(result.output.substr(0, 40));
}

TEST(TrustStore, CertreqHashesAreSpkiSha1) {
  TrustStore store;
  ASSERT_TRUE(store.add_ca_file(pki_path("root.pem")));
  ASSERT_TRUE(store.add_ca_file(pki_path("intermediate.der")));
  ASSERT_TRUE(store.add_ca_file(pki_path("root.pem")));  // twice: still one anchor
  std::vector<Bytes> expected{cli_spki_sha1("root.pem"), cli_spki_sha1("intermediate.pem")};
  ASSERT_EQ(expected[0].size(), 20u);
  EXPECT_EQ(store.certreq_hashes(), expected);
  EXPECT_TRUE(store.has_anchor_hash(expected[1]));
  const Certificate* anchor = store.anchor_for_hash(expected[1]);
  ASSERT_NE(anchor, nullptr);
  EXPECT_EQ(anchor->der(), read_file(pki_path("intermediate.der")));
  EXPECT_FALSE(store.has_anchor_hash(cli_spki_sha1("other-root.pem")));
  EXPECT_FALSE(store.has_anchor_hash(Bytes(20, 0)));
  EXPECT_FALSE(store.has_anchor_hash(Bytes{}));
  // An intermediate loaded as an anchor verifies its leaves on its own.
  auto verified = store.verify(read_file(pki_path("p256.der")), {}, std::time(nullptr));
  EXPECT_TRUE(verified) << verified.error();
}

}  // namespace
}  // namespace traverse::ike
