#include "bench/ike/client_credentials.hh"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace traverse::bench {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

bool add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

Expected<ClientCertificateMint, std::string> ClientCertificateMint::load(
    const std::string& ca_cert, const std::string& ca_key) {
  auto cert = ike::Certificate::load(ca_cert);
  if (!cert)
    return unexpected("--ca " + ca_cert + ": " + cert.error());
  auto key = ike::PrivateKey::load(ca_key);
  if (!key)
    return unexpected("--ca-key " + ca_key + ": " + key.error());
  if (!key->matches(*cert))
    return unexpected("--ca-key " + ca_key + " does not belong to " + ca_cert);
  auto trust = std::make_shared<ike::TrustStore>();
  if (auto r = trust->add_anchor(*cert); !r)
    return unexpected("--ca " + ca_cert + ": " + r.error());
  return ClientCertificateMint(std::move(*cert), std::move(*key), std::move(trust));
}

Expected<std::shared_ptr<const ike::Credentials>, std::string> ClientCertificateMint::mint(
    const std::string& email) {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  if (!pkey || !cert)
    return unexpected(std::string("cannot generate a P-256 key"));
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial_);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_.native()));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Traverse Load"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(email.c_str()), -1, -1, 0);
  X509_set_pubkey(cert.get(), pkey.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_.native(), cert.get(), nullptr, nullptr, 0);
  if (!add_extension(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE") ||
      !add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), &ctx, NID_subject_alt_name, "email:" + email) ||
      !add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid")) {
    return unexpected("cannot add the extensions of " + email + "'s certificate");
  }
  if (X509_sign(cert.get(), ca_key_.native(), EVP_sha256()) == 0)
    return unexpected("cannot sign " + email + "'s certificate");

  // PrivateKey is built from PEM only; the round trip costs microseconds.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return unexpected(std::string("cannot encode a generated key"));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr)
    return unexpected(std::string("cannot encode a generated key"));
  auto key = ike::PrivateKey::from_pem(
      ike::ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<std::size_t>(len)));
  if (!key)
    return unexpected("generated key: " + key.error());

  auto creds = std::make_shared<ike::Credentials>();
  creds->chain.push_back(ike::Certificate::adopt(cert.get()));
  creds->key.emplace(std::move(*key));
  creds->trust = trust_;
  return std::shared_ptr<const ike::Credentials>(std::move(creds));
}

}  // namespace traverse::bench
