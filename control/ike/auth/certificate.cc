#include "control/ike/auth/certificate.hh"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <array>
#include <cctype>
#include <fstream>

namespace traverse::ike {
namespace {

// PEM files of keys and chains are small; a bound keeps a wrong path (a log,
// a device) from being read whole.
constexpr std::size_t max_pem_file = 1 << 20;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The reason of the most recent OpenSSL error, and a clean queue afterwards so
// a failure here is not reported again by the next unrelated call.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  std::string reason = code != 0 && ERR_reason_error_string(code) != nullptr
                           ? ERR_reason_error_string(code)
                           : "unknown error";
  ERR_clear_error();
  return reason;
}

bool looks_like_pem(ByteView data) {
  static constexpr std::string_view marker = "-----BEGIN ";
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  return text.find(marker) != std::string_view::npos;
}

BioPtr memory_bio(ByteView data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

Bytes encode_name(const X509_NAME* name) {
  int length = i2d_X509_NAME(name, nullptr);
  if (length <= 0)
    return {};
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_X509_NAME(name, &out);
  return der;
}

bool same_fqdn(const Identity& a, const Identity& b) {
  if (a.type != id_type::fqdn || b.type != id_type::fqdn || a.data.size() != b.data.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    if (std::tolower(a.data[i]) != std::tolower(b.data[i]))
      return false;
  }
  return true;
}

// PEM loaders must never prompt on a terminal for a passphrase.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

}  // namespace

Expected<Bytes, std::string> read_small_file(const std::string& path, std::size_t limit) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return unexpected("cannot open '" + path + "'");
  Bytes data;
  std::array<char, 4096> chunk{};
  while (file.read(chunk.data(), chunk.size()) || file.gcount() > 0) {
    data.insert(data.end(), chunk.begin(), chunk.begin() + file.gcount());
    if (data.size() > limit) {
      return unexpected("'" + path + "' is larger than " + std::to_string(limit) + " bytes");
    }
  }
  if (file.bad())
    return unexpected("cannot read '" + path + "'");
  return data;
}

KeyKind key_kind_of(const EVP_PKEY* key) {
  if (key == nullptr)
    return KeyKind::other;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return KeyKind::rsa;
    case EVP_PKEY_EC:
      return KeyKind::ec;
    default:
      return KeyKind::other;
  }
}

int curve_nid_of(const EVP_PKEY* key) {
  if (key_kind_of(key) != KeyKind::ec)
    return NID_undef;
  std::array<char, 80> name{};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(),
                                     &length) != 1) {
    ERR_clear_error();
    return NID_undef;
  }
  int nid = OBJ_sn2nid(name.data());
  if (nid == NID_undef)
    nid = EC_curve_nist2nid(name.data());
  return nid;
}

// ---- Certificate ----

Expected<Certificate, std::string> Certificate::from_der(ByteView der) {
  if (der.empty())
    return unexpected(std::string("empty certificate"));
  if (der.size() > max_certificate_size)
    return unexpected(std::string("certificate too large"));
  const unsigned char* cursor = der.data();
  X509* x509 = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
  if (x509 == nullptr)
    return unexpected("malformed certificate: " + openssl_reason());
  Certificate cert(x509);
  if (cursor != der.data() + der.size()) {
    return unexpected(std::string("malformed certificate: trailing bytes after the DER"));
  }
  return cert;
}

Expected<Certificate, std::string> Certificate::from_pem(std::string_view pem) {
  BioPtr bio = memory_bio(as_bytes(pem));
  if (!bio)
    return unexpected(std::string("out of memory"));
  X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr);
  if (x509 == nullptr)
    return unexpected("no PEM certificate: " + openssl_reason());
  return Certificate(x509);
}

Expected<Certificate, std::string> Certificate::load(const std::string& path) {
  auto data = read_small_file(path, max_pem_file);
  if (!data)
    return unexpected(data.error());
  auto cert =
      looks_like_pem(*data)
          ? from_pem(std::string_view(reinterpret_cast<const char*>(data->data()), data->size()))
          : from_der(*data);
  if (!cert)
    return unexpected("'" + path + "': " + cert.error());
  return cert;
}

Certificate Certificate::adopt(X509* x509) {
  X509_up_ref(x509);
  return Certificate(x509);
}

Certificate::Certificate(const Certificate& other) : x509_(other.x509_.get()) {
  if (x509_)
    X509_up_ref(x509_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    if (other.x509_)
      X509_up_ref(other.x509_.get());
    x509_.reset(other.x509_.get());
  }
  return *this;
}

Bytes Certificate::der() const {
  int length = i2d_X509(x509_.get(), nullptr);
  if (length <= 0)
    return {};
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_X509(x509_.get(), &out);
  return der;
}

Identity Certificate::subject() const {
  return {id_type::der_asn1_dn, encode_name(X509_get_subject_name(x509_.get()))};
}

Identity Certificate::issuer() const {
  return {id_type::der_asn1_dn, encode_name(X509_get_issuer_name(x509_.get()))};
}

std::vector<Identity> Certificate::subject_alt_names() const {
  std::vector<Identity> names;
  auto* general_names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (general_names == nullptr)
    return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general_names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general_names, i);
    int kind = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &kind));
    Identity id;
    if (kind == GEN_DIRNAME) {
      id = {id_type::der_asn1_dn, encode_name(reinterpret_cast<const X509_NAME*>(value))};
      names.push_back(std::move(id));
      continue;
    }
    if (value == nullptr)
      continue;
    const unsigned char* data = ASN1_STRING_get0_data(value);
    auto length = static_cast<std::size_t>(ASN1_STRING_length(value));
    if (kind == GEN_DNS) {
      id.type = id_type::fqdn;
    } else if (kind == GEN_EMAIL) {
      id.type = id_type::rfc822_addr;
    } else if (kind == GEN_IPADD && length == 4) {
      id.type = id_type::ipv4_addr;
    } else if (kind == GEN_IPADD && length == 16) {
      id.type = id_type::ipv6_addr;
    } else {
      continue;
    }
    id.data.assign(data, data + length);
    names.push_back(std::move(id));
  }
  GENERAL_NAMES_free(general_names);
  return names;
}

bool Certificate::certifies(const Identity& id) const {
  if (id.type == id_type::der_asn1_dn && id == subject())
    return true;
  for (const Identity& name : subject_alt_names()) {
    if (name == id || same_fqdn(name, id))
      return true;
  }
  return false;
}

EVP_PKEY* Certificate::public_key() const {
  return X509_get0_pubkey(x509_.get());
}

KeyKind Certificate::key_kind() const {
  return key_kind_of(public_key());
}

Bytes Certificate::public_key_sha1() const {
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(x509_.get());
  int length = i2d_X509_PUBKEY(spki, nullptr);
  if (length <= 0)
    return {};
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_X509_PUBKEY(spki, &out);
  Bytes digest(SHA_DIGEST_LENGTH);
  unsigned int digest_length = 0;
  EVP_Digest(der.data(), der.size(), digest.data(), &digest_length, EVP_sha1(), nullptr);
  return digest;
}

bool Certificate::is_ca() const {
  return X509_check_ca(x509_.get()) != 0;
}

std::string Certificate::subject_text() const {
  return to_string(subject());
}

// ---- PrivateKey ----

Expected<PrivateKey, std::string> PrivateKey::from_pem(ByteView pem) {
  BioPtr bio = memory_bio(pem);
  if (!bio)
    return unexpected(std::string("out of memory"));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr) {
    return unexpected("no usable PEM private key (encrypted keys are not supported): " +
                      openssl_reason());
  }
  PrivateKey result(key);
  if (result.kind() == KeyKind::other) {
    return unexpected(std::string("private key is neither RSA nor EC"));
  }
  return result;
}

Expected<PrivateKey, std::string> PrivateKey::load(const std::string& path) {
  // Read straight into a wiped buffer of the file's size, so no growing
  // vector leaves copies of the key in freed memory.
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    return unexpected("cannot open '" + path + "'");
  std::streamoff size = file.tellg();
  if (size < 0 || static_cast<std::size_t>(size) > max_pem_file) {
    return unexpected("'" + path + "' is not a key file of at most " +
                      std::to_string(max_pem_file) + " bytes");
  }
  Secret pem(static_cast<std::size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(pem.data()), static_cast<std::streamsize>(size))) {
    return unexpected("cannot read '" + path + "'");
  }
  auto key = from_pem(pem.view());
  if (!key)
    return unexpected("'" + path + "': " + key.error());
  return key;
}

KeyKind PrivateKey::kind() const {
  return key_kind_of(key_.get());
}

int PrivateKey::curve_nid() const {
  return curve_nid_of(key_.get());
}

bool PrivateKey::matches(const Certificate& cert) const {
  bool equal = EVP_PKEY_eq(key_.get(), cert.public_key()) == 1;
  ERR_clear_error();
  return equal;
}

// ---- files ----

Expected<std::vector<Certificate>, std::string> load_certificates(const std::string& path) {
  auto data = read_small_file(path, max_pem_file);
  if (!data)
    return unexpected(data.error());
  std::vector<Certificate> certs;
  if (!looks_like_pem(*data)) {
    auto cert = Certificate::from_der(*data);
    if (!cert)
      return unexpected("'" + path + "': " + cert.error());
    certs.push_back(std::move(*cert));
    return certs;
  }
  BioPtr bio = memory_bio(*data);
  if (!bio)
    return unexpected(std::string("out of memory"));
  while (X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    certs.push_back(Certificate::adopt(x509));
    X509_free(x509);
  }
  // The loop ends on "no start line" at the end of the file; anything else is a broken PEM block.
  unsigned long code = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
  std::string reason = code != 0 && !clean_end ? openssl_reason() : "";
  ERR_clear_error();
  if (!reason.empty())
    return unexpected("'" + path + "': bad PEM certificate: " + reason);
  if (certs.empty())
    return unexpected("'" + path + "' holds no certificate");
  return certs;
}

Expected<std::vector<Certificate>, std::string> load_certificate_chain(const std::string& path) {
  auto certs = load_certificates(path);
  if (!certs)
    return certs;
  // The leaf comes first; each later certificate should be the issuer of the one before.
  for (std::size_t i = 1; i < certs->size(); ++i) {
    if (X509_check_issued((*certs)[i].native(), (*certs)[i - 1].native()) != X509_V_OK) {
      return unexpected("'" + path + "': certificate " + std::to_string(i + 1) + " (" +
                        (*certs)[i].subject_text() + ") did not issue the one before it");
    }
  }
  return certs;
}

}  // namespace traverse::ike
