#include "control/ike/auth/signature_algorithm.hh"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace traverse::ike {
namespace {

// The salt can never be longer than the largest RSA modulus we accept.
constexpr long max_pss_salt = 1024;

void append_length(Bytes& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
  } else if (length <= 0xff) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(length));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
  }
}

Bytes tlv(uint8_t tag, ByteView content) {
  Bytes out{tag};
  append_length(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// OBJECT IDENTIFIER contents (RFC 8017 appendix C, RFC 5758 3.2, RFC 5754 2).
Bytes pkcs1_oid(HashAlgorithm hash) {
  uint8_t last = 0x0b;
  switch (hash) {
    case HashAlgorithm::sha1:
      last = 0x05;
      break;
    case HashAlgorithm::sha256:
      last = 0x0b;
      break;
    case HashAlgorithm::sha384:
      last = 0x0c;
      break;
    case HashAlgorithm::sha512:
      last = 0x0d;
      break;
  }
  return {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last};
}
const Bytes rsassa_pss_oid{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
const Bytes mgf1_oid{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};

Bytes ecdsa_oid(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::sha1:
      return {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01};
    case HashAlgorithm::sha256:
      return {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    case HashAlgorithm::sha384:
      return {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
    case HashAlgorithm::sha512:
      return {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
  }
  return {};
}

Bytes hash_oid(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::sha1:
      return {0x2b, 0x0e, 0x03, 0x02, 0x1a};
    case HashAlgorithm::sha256:
      return {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
    case HashAlgorithm::sha384:
      return {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
    case HashAlgorithm::sha512:
      return {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};
  }
  return {};
}

const Bytes der_null{0x05, 0x00};

// Hash AlgorithmIdentifier inside PSS parameters: NULL parameter, as RFC 4055
// section 2.1 asks ("implementations MUST accept both", we emit NULL).
Bytes hash_algorithm_identifier(HashAlgorithm hash) {
  return tlv(0x30, concat({tlv(0x06, hash_oid(hash)), der_null}));
}

struct AlgorFree {
  void operator()(X509_ALGOR* algor) const { X509_ALGOR_free(algor); }
};
struct PssFree {
  void operator()(RSA_PSS_PARAMS* params) const { RSA_PSS_PARAMS_free(params); }
};

Expected<HashAlgorithm, std::string> hash_from_nid(int nid) {
  switch (nid) {
    case NID_sha1:
      return HashAlgorithm::sha1;
    case NID_sha256:
      return HashAlgorithm::sha256;
    case NID_sha384:
      return HashAlgorithm::sha384;
    case NID_sha512:
      return HashAlgorithm::sha512;
    default:
      return unexpected("unsupported hash algorithm " + std::string(OBJ_nid2sn(nid)));
  }
}

// A hash AlgorithmIdentifier within PSS parameters: parameters absent or NULL.
Expected<HashAlgorithm, std::string> parse_hash_algor(const X509_ALGOR* algor) {
  const ASN1_OBJECT* oid = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, algor);
  if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL) {
    return unexpected(std::string("hash AlgorithmIdentifier has parameters"));
  }
  return hash_from_nid(OBJ_obj2nid(oid));
}

Expected<SignatureAlgorithm, std::string> parse_pss_parameters(const ASN1_TYPE* parameter) {
  // RFC 4055 section 3.1: absent parameters mean all defaults.
  SignatureAlgorithm algorithm{SignatureScheme::rsa_pss, HashAlgorithm::sha1, HashAlgorithm::sha1,
                               20};
  if (parameter == nullptr)
    return algorithm;
  if (parameter->type != V_ASN1_SEQUENCE) {
    return unexpected(std::string("RSASSA-PSS parameters are not a SEQUENCE"));
  }
  const ASN1_STRING* sequence = parameter->value.sequence;
  const unsigned char* cursor = ASN1_STRING_get0_data(sequence);
  long length = ASN1_STRING_length(sequence);
  const unsigned char* start = cursor;
  std::unique_ptr<RSA_PSS_PARAMS, PssFree> params(d2i_RSA_PSS_PARAMS(nullptr, &cursor, length));
  if (!params || cursor != start + length) {
    ERR_clear_error();
    return unexpected(std::string("malformed RSASSA-PSS parameters"));
  }
  if (i2d_RSA_PSS_PARAMS(params.get(), nullptr) != length) {
    return unexpected(std::string("RSASSA-PSS parameters are not DER"));
  }
  if (params->hashAlgorithm != nullptr) {
    auto hash = parse_hash_algor(params->hashAlgorithm);
    if (!hash)
      return unexpected("RSASSA-PSS: " + hash.error());
    algorithm.hash = *hash;
  }
  if (params->maskGenAlgorithm != nullptr) {
    const ASN1_OBJECT* oid = nullptr;
    int param_type = 0;
    const void* param = nullptr;
    X509_ALGOR_get0(&oid, &param_type, &param, params->maskGenAlgorithm);
    if (OBJ_obj2nid(oid) != NID_mgf1 || param_type != V_ASN1_SEQUENCE) {
      return unexpected(std::string("RSASSA-PSS: mask generation is not MGF1 with a hash"));
    }
    const auto* mgf_sequence = static_cast<const ASN1_STRING*>(param);
    const unsigned char* mgf_cursor = ASN1_STRING_get0_data(mgf_sequence);
    long mgf_length = ASN1_STRING_length(mgf_sequence);
    const unsigned char* mgf_start = mgf_cursor;
    std::unique_ptr<X509_ALGOR, AlgorFree> mgf_hash(
        d2i_X509_ALGOR(nullptr, &mgf_cursor, mgf_length));
    if (!mgf_hash || mgf_cursor != mgf_start + mgf_length) {
      ERR_clear_error();
      return unexpected(std::string("RSASSA-PSS: malformed MGF1 hash"));
    }
    auto hash = parse_hash_algor(mgf_hash.get());
    if (!hash)
      return unexpected("RSASSA-PSS MGF1: " + hash.error());
    algorithm.mgf1_hash = *hash;
  }
  if (params->saltLength != nullptr) {
    long salt = ASN1_INTEGER_get(params->saltLength);
    if (salt < 0 || salt > max_pss_salt) {
      return unexpected(std::string("RSASSA-PSS: salt length out of range"));
    }
    algorithm.salt_length = static_cast<int>(salt);
  }
  if (params->trailerField != nullptr && ASN1_INTEGER_get(params->trailerField) != 1) {
    return unexpected(std::string("RSASSA-PSS: trailer field is not 1 (RFC 4055 3.1)"));
  }
  return algorithm;
}

}  // namespace

SignatureAlgorithm rsa_pss_algorithm(HashAlgorithm hash) {
  return {SignatureScheme::rsa_pss, hash, hash, static_cast<int>(hash_size(hash))};
}

Bytes encode_algorithm_identifier(const SignatureAlgorithm& algorithm) {
  switch (algorithm.scheme) {
    case SignatureScheme::rsa_pkcs1:
      return tlv(0x30, concat({tlv(0x06, pkcs1_oid(algorithm.hash)), der_null}));
    case SignatureScheme::ecdsa:
      return tlv(0x30, tlv(0x06, ecdsa_oid(algorithm.hash)));
    case SignatureScheme::rsa_pss: {
      // DER leaves out fields equal to their DEFAULT (X.690 11.5).
      Bytes params;
      if (algorithm.hash != HashAlgorithm::sha1) {
        params = concat({params, tlv(0xa0, hash_algorithm_identifier(algorithm.hash))});
      }
      if (algorithm.mgf1_hash != HashAlgorithm::sha1) {
        Bytes mgf = tlv(
            0x30, concat({tlv(0x06, mgf1_oid), hash_algorithm_identifier(algorithm.mgf1_hash)}));
        params = concat({params, tlv(0xa1, mgf)});
      }
      if (algorithm.salt_length != 20) {
        // INTEGER, minimal two's complement (salt lengths are 0..1024, so at
        // most 2 value octets plus a leading 0 that keeps the value positive).
        auto value = static_cast<uint32_t>(std::max(algorithm.salt_length, 0));
        Bytes salt{0x00, static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
        std::size_t skip = 0;
        while (skip < 2 && salt[skip] == 0 && !(salt[skip + 1] & 0x80))
          ++skip;
        salt.erase(salt.begin(), salt.begin() + static_cast<std::ptrdiff_t>(skip));
        params = concat({params, tlv(0xa2, tlv(0x02, salt))});
      }
      return tlv(0x30, concat({tlv(0x06, rsassa_pss_oid), tlv(0x30, params)}));
    }
  }
  return {};
}

Expected<SignatureAlgorithm, std::string> parse_algorithm_identifier(ByteView der) {
  if (der.empty())
    return unexpected(std::string("empty AlgorithmIdentifier"));
  const unsigned char* cursor = der.data();
  std::unique_ptr<X509_ALGOR, AlgorFree> algor(
      d2i_X509_ALGOR(nullptr, &cursor, static_cast<long>(der.size())));
  if (!algor) {
    ERR_clear_error();
    return unexpected(std::string("malformed AlgorithmIdentifier"));
  }
  if (cursor != der.data() + der.size()) {
    return unexpected(std::string("AlgorithmIdentifier length does not match its DER length"));
  }
  if (i2d_X509_ALGOR(algor.get(), nullptr) != static_cast<int>(der.size())) {
    return unexpected(std::string("AlgorithmIdentifier is not DER"));
  }
  const ASN1_OBJECT* oid = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, algor.get());
  int nid = OBJ_obj2nid(oid);
  SignatureAlgorithm algorithm;
  switch (nid) {
    case NID_sha1WithRSAEncryption:
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption: {
      // RFC 4055 5: NULL parameter; absent is tolerated as many encoders do it.
      if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
        return unexpected(std::string("PKCS#1 v1.5 AlgorithmIdentifier has parameters"));
      }
      algorithm.scheme = SignatureScheme::rsa_pkcs1;
      algorithm.hash = nid == NID_sha1WithRSAEncryption     ? HashAlgorithm::sha1
                       : nid == NID_sha256WithRSAEncryption ? HashAlgorithm::sha256
                       : nid == NID_sha384WithRSAEncryption ? HashAlgorithm::sha384
                                                            : HashAlgorithm::sha512;
      return algorithm;
    }
    case NID_ecdsa_with_SHA1:
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512: {
      if (param_type != V_ASN1_UNDEF) {
        return unexpected(std::string("ECDSA AlgorithmIdentifier has parameters (RFC 5758 3.2)"));
      }
      algorithm.scheme = SignatureScheme::ecdsa;
      algorithm.hash = nid == NID_ecdsa_with_SHA1     ? HashAlgorithm::sha1
                       : nid == NID_ecdsa_with_SHA256 ? HashAlgorithm::sha256
                       : nid == NID_ecdsa_with_SHA384 ? HashAlgorithm::sha384
                                                      : HashAlgorithm::sha512;
      return algorithm;
    }
    case NID_rsassaPss: {
      const ASN1_TYPE* parameter = nullptr;
      if (param_type != V_ASN1_UNDEF) {
        parameter = algor->parameter;
      }
      return parse_pss_parameters(parameter);
    }
    default: {
      std::string name = nid != NID_undef ? OBJ_nid2sn(nid) : "unknown OID";
      return unexpected("unsupported signature algorithm " + name);
    }
  }
}

const EVP_MD* hash_md(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::sha1:
      return EVP_sha1();
    case HashAlgorithm::sha256:
      return EVP_sha256();
    case HashAlgorithm::sha384:
      return EVP_sha384();
    case HashAlgorithm::sha512:
      return EVP_sha512();
  }
  return nullptr;
}

std::size_t hash_size(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::sha1:
      return 20;
    case HashAlgorithm::sha256:
      return 32;
    case HashAlgorithm::sha384:
      return 48;
    case HashAlgorithm::sha512:
      return 64;
  }
  return 0;
}

std::string to_string(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::sha1:
      return "sha1";
    case HashAlgorithm::sha256:
      return "sha256";
    case HashAlgorithm::sha384:
      return "sha384";
    case HashAlgorithm::sha512:
      return "sha512";
  }
  return "unknown";
}

std::string to_string(const SignatureAlgorithm& algorithm) {
  switch (algorithm.scheme) {
    case SignatureScheme::rsa_pkcs1:
      return to_string(algorithm.hash) + "WithRSAEncryption";
    case SignatureScheme::ecdsa:
      return "ecdsa-with-" + to_string(algorithm.hash);
    case SignatureScheme::rsa_pss:
      return "rsassa-pss(" + to_string(algorithm.hash) + ", mgf1-" +
             to_string(algorithm.mgf1_hash) + ", salt " + std::to_string(algorithm.salt_length) +
             ")";
  }
  return "unknown";
}

}  // namespace traverse::ike
