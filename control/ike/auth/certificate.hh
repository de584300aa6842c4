// X.509 certificates and private keys for IKEv2 signature authentication:
// RAII owners of OpenSSL's X509 and EVP_PKEY. A const Certificate or PrivateKey
// may be shared between threads (OpenSSL objects are reference counted and
// read-only here); loading functions are thread-safe.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/auth/identity.hh"
#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// Certificate Encoding (IANA "IKEv2 Certificate Encodings"): X.509 Certificate - Signature.
inline constexpr uint8_t cert_encoding_x509_signature = 4;

// Certificates larger than this are refused before parsing (a CERT payload
// holds at most 64 KiB anyway).
inline constexpr std::size_t max_certificate_size = 65535;

enum class KeyKind { rsa, ec, other };

// Copies share the X509 (reference counted). A moved-from Certificate may
// only be assigned to or destroyed.
class Certificate {
 public:
  static Expected<Certificate, std::string> from_der(ByteView der);
  static Expected<Certificate, std::string> from_pem(std::string_view pem);
  // A file holding one certificate, PEM or DER.
  static Expected<Certificate, std::string> load(const std::string& path);

  // Takes one reference on the X509 (the caller keeps its own).
  static Certificate adopt(X509* x509);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate() = default;

  Bytes der() const;  // the CERT payload data for encoding 4
  Identity subject() const;
  Identity issuer() const;
  // dNSName, rfc822Name and iPAddress SubjectAltNames as identities;
  // directoryName as a DN. Other GeneralName kinds are skipped.
  std::vector<Identity> subject_alt_names() const;
  // True when the identity is the subject DN or one of the SANs: the peer's
  // IDi/IDr must pass this before its AUTH is trusted (RFC 7296 3.5).
  bool certifies(const Identity& id) const;

  EVP_PKEY* public_key() const;  // borrowed, lives as long as this certificate
  KeyKind key_kind() const;
  // SHA-1 of the DER SubjectPublicKeyInfo (CERTREQ authority hash, RFC 7296 3.7).
  Bytes public_key_sha1() const;
  bool is_ca() const;
  std::string subject_text() const;  // one-line subject DN, for logs

  X509* native() const { return x509_.get(); }

 private:
  struct Free {
    void operator()(X509* x509) const { X509_free(x509); }
  };
  explicit Certificate(X509* owned) : x509_(owned) {}
  std::unique_ptr<X509, Free> x509_;
};

class PrivateKey {
 public:
  // An unencrypted PEM private key (PKCS#8, or traditional RSA/EC), in memory or in a file.
  // The file's bytes are held in a wiped buffer; EVP_PKEY_free clears the key.
  static Expected<PrivateKey, std::string> from_pem(ByteView pem);
  static Expected<PrivateKey, std::string> load(const std::string& path);

  KeyKind kind() const;
  // For EC keys the curve's NID (NID_X9_62_prime256v1, NID_secp384r1, ...), else NID_undef.
  int curve_nid() const;
  // True when the certificate carries this key's public half.
  bool matches(const Certificate& cert) const;
  EVP_PKEY* native() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  explicit PrivateKey(EVP_PKEY* owned) : key_(owned) {}
  std::unique_ptr<EVP_PKEY, Free> key_;
};

// A PEM file with the leaf certificate first, then its intermediates.
Expected<std::vector<Certificate>, std::string> load_certificate_chain(const std::string& path);
// Every certificate in a PEM file (CA bundles), or the one certificate of a DER file.
Expected<std::vector<Certificate>, std::string> load_certificates(const std::string& path);

// Reads a whole file (bounded) for the loaders here; the error names the path.
Expected<Bytes, std::string> read_small_file(const std::string& path, std::size_t limit);

// Key kind and curve of any public or private key.
KeyKind key_kind_of(const EVP_PKEY* key);
int curve_nid_of(const EVP_PKEY* key);

}  // namespace traverse::ike
