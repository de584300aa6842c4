#include "control/ike/auth/signature_auth.hh"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <memory>

namespace traverse::ike {
namespace {

// Larger than any signature of a 16384-bit RSA key; bounds hostile input.
constexpr std::size_t max_signature_size = 2048;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};

std::string clear_errors(std::string message) {
  ERR_clear_error();
  return message;
}

// RFC 4754 binds each method to one curve and hash.
struct FixedEcdsaMethod {
  uint8_t method;
  int curve_nid;
  HashAlgorithm hash;
};
constexpr std::array<FixedEcdsaMethod, 3> fixed_ecdsa_methods{{
    {auth_method::ecdsa_256, NID_X9_62_prime256v1, HashAlgorithm::sha256},
    {auth_method::ecdsa_384, NID_secp384r1, HashAlgorithm::sha384},
    {auth_method::ecdsa_521, NID_secp521r1, HashAlgorithm::sha512},
}};

bool configure_padding(EVP_PKEY_CTX* pctx, const SignatureAlgorithm& algorithm) {
  if (algorithm.scheme != SignatureScheme::rsa_pss)
    return true;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, algorithm.salt_length) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, hash_md(algorithm.mgf1_hash)) == 1;
}

Expected<Bytes, std::string> sign_with(EVP_PKEY* key, const SignatureAlgorithm& algorithm,
                                       ByteView data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, hash_md(algorithm.hash), nullptr, key) != 1 ||
      !configure_padding(pctx, algorithm)) {
    return unexpected(clear_errors("cannot sign with " + to_string(algorithm)));
  }
  std::size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data.data(), data.size()) != 1) {
    return unexpected(clear_errors("signing with " + to_string(algorithm) + " failed"));
  }
  Bytes signature(length);
  if (EVP_DigestSign(ctx.get(), signature.data(), &length, data.data(), data.size()) != 1) {
    return unexpected(clear_errors("signing with " + to_string(algorithm) + " failed"));
  }
  signature.resize(length);
  return signature;
}

Expected<void, std::string> verify_with(EVP_PKEY* key, const SignatureAlgorithm& algorithm,
                                        ByteView signature, ByteView data) {
  if (signature.empty())
    return unexpected(std::string("empty signature"));
  if (signature.size() > max_signature_size)
    return unexpected(std::string("signature too long"));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, hash_md(algorithm.hash), nullptr, key) != 1 ||
      !configure_padding(pctx, algorithm)) {
    return unexpected(clear_errors("cannot verify " + to_string(algorithm) + " with this key"));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) !=
      1) {
    return unexpected(clear_errors(to_string(algorithm) + " signature does not verify"));
  }
  return {};
}

std::size_t ecdsa_field_size(const EVP_PKEY* key) {
  return static_cast<std::size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
}

// DER ECDSA-Sig-Value (what OpenSSL produces) to r || s, each left-padded to
// the field size (RFC 4754 section 3).
Expected<Bytes, std::string> der_to_fixed(ByteView der, std::size_t width) {
  const unsigned char* cursor = der.data();
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig)
    return unexpected(clear_errors("malformed ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes fixed(2 * width);
  if (BN_bn2binpad(r, fixed.data(), static_cast<int>(width)) < 0 ||
      BN_bn2binpad(s, fixed.data() + width, static_cast<int>(width)) < 0) {
    return unexpected(clear_errors("ECDSA signature wider than the curve"));
  }
  return fixed;
}

Expected<Bytes, std::string> fixed_to_der(ByteView fixed, std::size_t width) {
  if (width == 0 || fixed.size() != 2 * width) {
    return unexpected("ECDSA signature is " + std::to_string(fixed.size()) + " bytes, expected " +
                      std::to_string(2 * width));
  }
  std::unique_ptr<BIGNUM, BnFree> r(BN_bin2bn(fixed.data(), static_cast<int>(width), nullptr));
  std::unique_ptr<BIGNUM, BnFree> s(
      BN_bin2bn(fixed.data() + width, static_cast<int>(width), nullptr));
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return unexpected(clear_errors("out of memory"));
  }
  r.release();  // owned by sig now
  s.release();
  int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0)
    return unexpected(clear_errors("cannot encode ECDSA signature"));
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

const FixedEcdsaMethod* fixed_method_for_curve(int curve_nid) {
  for (const auto& entry : fixed_ecdsa_methods) {
    if (entry.curve_nid == curve_nid)
      return &entry;
  }
  return nullptr;
}

const FixedEcdsaMethod* fixed_method(uint8_t method) {
  for (const auto& entry : fixed_ecdsa_methods) {
    if (entry.method == method)
      return &entry;
  }
  return nullptr;
}

std::string key_name(KeyKind kind) {
  return kind == KeyKind::rsa ? "RSA" : kind == KeyKind::ec ? "ECDSA" : "unsupported";
}

Expected<void, std::string> verify_digital_signature(const Certificate& signer, ByteView auth_data,
                                                     ByteView signed_octets,
                                                     const VerifyOptions& options) {
  // RFC 7427 section 3: length of the ASN.1 object (1 octet), the
  // AlgorithmIdentifier, then the signature value.
  if (auth_data.empty())
    return unexpected(std::string("empty AUTH data"));
  std::size_t algorithm_length = auth_data[0];
  if (algorithm_length == 0 || auth_data.size() < 1 + algorithm_length + 1) {
    return unexpected("AUTH data of " + std::to_string(auth_data.size()) +
                      " bytes cannot hold an AlgorithmIdentifier of " +
                      std::to_string(algorithm_length) + " bytes and a signature");
  }
  auto algorithm = parse_algorithm_identifier(auth_data.subspan(1, algorithm_length));
  if (!algorithm)
    return unexpected(algorithm.error());
  if (algorithm->hash == HashAlgorithm::sha1 && !options.allow_sha1_digital_signature) {
    return unexpected(to_string(*algorithm) + " refused: SHA-1 signatures are not accepted");
  }
  KeyKind kind = signer.key_kind();
  bool fits =
      algorithm->scheme == SignatureScheme::ecdsa ? kind == KeyKind::ec : kind == KeyKind::rsa;
  if (!fits) {
    return unexpected(to_string(*algorithm) + " does not match the signer's " + key_name(kind) +
                      " key");
  }
  return verify_with(signer.public_key(), *algorithm, auth_data.subspan(1 + algorithm_length),
                     signed_octets);
}

}  // namespace

Expected<SignatureAuth, std::string> sign_auth(const PrivateKey& key, ByteView signed_octets,
                                               const std::vector<uint16_t>& peer_hash_algorithms,
                                               const SignOptions& options) {
  KeyKind kind = key.kind();
  if (kind == KeyKind::other)
    return unexpected(std::string("key is neither RSA nor ECDSA"));

  // RFC 7427 with the strongest SHA-2 both sides support.
  for (HashAlgorithm hash : {HashAlgorithm::sha512, HashAlgorithm::sha384, HashAlgorithm::sha256}) {
    if (std::find(peer_hash_algorithms.begin(), peer_hash_algorithms.end(),
                  static_cast<uint16_t>(hash)) == peer_hash_algorithms.end()) {
      continue;
    }
    SignatureAlgorithm algorithm{SignatureScheme::ecdsa, hash, hash, 0};
    if (kind == KeyKind::rsa) {
      algorithm = options.rsa_pss ? rsa_pss_algorithm(hash)
                                  : SignatureAlgorithm{SignatureScheme::rsa_pkcs1, hash, hash, 0};
    }
    auto signature = sign_with(key.native(), algorithm, signed_octets);
    if (!signature)
      return unexpected(signature.error());
    Bytes algorithm_der = encode_algorithm_identifier(algorithm);
    SignatureAuth auth{auth_method::digital_signature, {}};
    auth.data.push_back(static_cast<uint8_t>(algorithm_der.size()));
    auth.data.insert(auth.data.end(), algorithm_der.begin(), algorithm_der.end());
    auth.data.insert(auth.data.end(), signature->begin(), signature->end());
    return auth;
  }

  // The peer has no RFC 7427 (or no SHA-2 in common): RFC 7296 / RFC 4754.
  if (kind == KeyKind::rsa) {
    auto signature = sign_with(
        key.native(), {SignatureScheme::rsa_pkcs1, HashAlgorithm::sha1, HashAlgorithm::sha1, 0},
        signed_octets);
    if (!signature)
      return unexpected(signature.error());
    return SignatureAuth{auth_method::rsa_sig, std::move(*signature)};
  }
  const FixedEcdsaMethod* fixed = fixed_method_for_curve(key.curve_nid());
  if (fixed == nullptr) {
    return unexpected(
        std::string("the key's curve has no RFC 4754 AUTH method and the peer did "
                    "not announce RFC 7427 signature hashes"));
  }
  auto der =
      sign_with(key.native(), {SignatureScheme::ecdsa, fixed->hash, fixed->hash, 0}, signed_octets);
  if (!der)
    return unexpected(der.error());
  auto fixed_signature = der_to_fixed(*der, ecdsa_field_size(key.native()));
  if (!fixed_signature)
    return unexpected(fixed_signature.error());
  return SignatureAuth{fixed->method, std::move(*fixed_signature)};
}

Expected<void, std::string> verify_auth(const Certificate& signer, uint8_t method,
                                        ByteView auth_data, ByteView signed_octets,
                                        const VerifyOptions& options) {
  KeyKind kind = signer.key_kind();
  if (method == auth_method::digital_signature) {
    return verify_digital_signature(signer, auth_data, signed_octets, options);
  }
  if (method == auth_method::rsa_sig) {
    if (kind != KeyKind::rsa) {
      return unexpected("AUTH method 1 (RSA) but the signer has an " + key_name(kind) + " key");
    }
    return verify_with(signer.public_key(),
                       {SignatureScheme::rsa_pkcs1, HashAlgorithm::sha1, HashAlgorithm::sha1, 0},
                       auth_data, signed_octets);
  }
  if (const FixedEcdsaMethod* fixed = fixed_method(method)) {
    if (kind != KeyKind::ec || curve_nid_of(signer.public_key()) != fixed->curve_nid) {
      return unexpected("AUTH method " + std::to_string(method) +
                        " does not match the signer's key type or curve");
    }
    auto der = fixed_to_der(auth_data, ecdsa_field_size(signer.public_key()));
    if (!der)
      return unexpected(der.error());
    return verify_with(signer.public_key(), {SignatureScheme::ecdsa, fixed->hash, fixed->hash, 0},
                       *der, signed_octets);
  }
  return unexpected("AUTH method " + std::to_string(method) + " is not a signature method");
}

Bytes signature_hash_algorithms_notify_data() {
  Bytes data;
  for (HashAlgorithm hash : {HashAlgorithm::sha256, HashAlgorithm::sha384, HashAlgorithm::sha512}) {
    auto value = static_cast<uint16_t>(hash);
    data.push_back(static_cast<uint8_t>(value >> 8));
    data.push_back(static_cast<uint8_t>(value));
  }
  return data;
}

Expected<std::vector<uint16_t>, std::string> parse_signature_hash_algorithms(ByteView data) {
  if (data.size() % 2 != 0) {
    return unexpected(std::string("SIGNATURE_HASH_ALGORITHMS data has an odd length"));
  }
  std::vector<uint16_t> values;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    values.push_back(static_cast<uint16_t>(data[i] << 8 | data[i + 1]));
  }
  return values;
}

}  // namespace traverse::ike
