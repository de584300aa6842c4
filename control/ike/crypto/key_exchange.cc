#include "control/ike/crypto/key_exchange.hh"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>

namespace traverse::ike {
namespace {

enum class GroupKind { kModp, kEcp, kX25519 };

struct GroupInfo {
  uint16_t id;
  GroupKind kind;
  const char* openssl_name;  // OSSL_PKEY_PARAM_GROUP_NAME, or the key type for X25519
  std::size_t size;          // octets of the prime (MODP) or field element (ECP, X25519)
  int curve_nid;             // ECP only
};

constexpr GroupInfo kGroups[] = {
    {kGroupModp2048, GroupKind::kModp, "modp_2048", 256, NID_undef},
    {kGroupModp3072, GroupKind::kModp, "modp_3072", 384, NID_undef},
    {kGroupEcp256, GroupKind::kEcp, "P-256", 32, NID_X9_62_prime256v1},
    {kGroupEcp384, GroupKind::kEcp, "P-384", 48, NID_secp384r1},
    {kGroupEcp521, GroupKind::kEcp, "P-521", 66, NID_secp521r1},
    {kGroupCurve25519, GroupKind::kX25519, "X25519", 32, NID_undef},
};

const GroupInfo* find_group(uint16_t id) {
  for (const auto& info : kGroups) {
    if (info.id == id) {
      return &info;
    }
  }
  return nullptr;
}

struct Free {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Owned<BIGNUM> modp_prime(const GroupInfo& info) {
  return Owned<BIGNUM>(info.id == kGroupModp2048 ? BN_get_rfc3526_prime_2048(nullptr)
                                                 : BN_get_rfc3526_prime_3072(nullptr));
}

// An EVP_PKEY of type "DH" or "EC" from a group name, a public value and, for
// a key pair, the private value. OpenSSL validates the public value as it loads.
Owned<EVP_PKEY> key_from_data(const char* type, const GroupInfo& info, const BIGNUM* public_bn,
                              ByteView public_octets, const BIGNUM* private_bn) {
  Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                                  info.openssl_name, 0) != 1) {
    return nullptr;
  }
  if (public_bn != nullptr &&
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, public_bn) != 1) {
    return nullptr;
  }
  if (public_bn == nullptr &&
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, public_octets.data(),
                                       public_octets.size()) != 1) {
    return nullptr;
  }
  if (private_bn != nullptr &&
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, private_bn) != 1) {
    return nullptr;
  }
  // The private value came from a secure BIGNUM, so its copy here is wiped on free.
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder.get()));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return nullptr;
  }
  EVP_PKEY* key = nullptr;
  const int selection = private_bn != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  if (EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1) {
    return nullptr;
  }
  return Owned<EVP_PKEY>(key);
}

Owned<EVP_PKEY> modp_from_private(const GroupInfo& info, ByteView private_key) {
  Owned<BIGNUM> prime = modp_prime(info);
  Owned<BIGNUM> x(BN_secure_new());
  Owned<BIGNUM> y(BN_new());
  Owned<BIGNUM> two(BN_new());
  Owned<BN_CTX> bn_ctx(BN_CTX_secure_new());
  if (!prime || !x || !y || !two || !bn_ctx ||
      BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), x.get()) == nullptr ||
      BN_set_word(two.get(), 2) != 1) {
    return nullptr;
  }
  // 1 < x < p - 1, so that g^x is neither 1 nor p - 1.
  Owned<BIGNUM> p_minus_1(BN_dup(prime.get()));
  if (!p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1 || BN_cmp(x.get(), BN_value_one()) <= 0 ||
      BN_cmp(x.get(), p_minus_1.get()) >= 0) {
    return nullptr;
  }
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  if (BN_mod_exp(y.get(), two.get(), x.get(), prime.get(), bn_ctx.get()) != 1) {
    return nullptr;
  }
  return key_from_data("DH", info, y.get(), {}, x.get());
}

Owned<EVP_PKEY> ecp_from_private(const GroupInfo& info, ByteView private_key) {
  Owned<EC_GROUP> curve(EC_GROUP_new_by_curve_name(info.curve_nid));
  Owned<BIGNUM> d(BN_secure_new());
  Owned<BN_CTX> bn_ctx(BN_CTX_secure_new());
  if (!curve || !d || !bn_ctx ||
      BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), d.get()) == nullptr) {
    return nullptr;
  }
  // 0 < d < n.
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(curve.get())) >= 0) {
    return nullptr;
  }
  Owned<EC_POINT> q(EC_POINT_new(curve.get()));
  if (!q || EC_POINT_mul(curve.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1) {
    return nullptr;
  }
  Bytes encoded(1 + 2 * info.size);
  if (EC_POINT_point2oct(curve.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, encoded.data(),
                         encoded.size(), bn_ctx.get()) != encoded.size()) {
    return nullptr;
  }
  return key_from_data("EC", info, nullptr, encoded, d.get());
}

// Runs the key agreement; OpenSSL re-validates the peer key (validate_peer = 1).
Expected<Secret, std::string> derive(EVP_PKEY* own, EVP_PKEY* peer, bool pad_dh) {
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) {
    return unexpected(std::string("key exchange: cannot start the key agreement"));
  }
  // RFC 7296 2.14: g^ir is padded with zeros to the length of the modulus.
  if (pad_dh && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) {
    return unexpected(std::string("key exchange: cannot request a padded DH result"));
  }
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) != 1) {
    return unexpected(std::string("key exchange: the peer's public value failed validation"));
  }
  std::size_t length = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &length) != 1 || length == 0) {
    return unexpected(std::string("key exchange: key agreement failed"));
  }
  Secret out(length);
  if (EVP_PKEY_derive(ctx.get(), out.data(), &length) != 1) {
    return unexpected(std::string("key exchange: key agreement failed"));
  }
  out.resize(length);
  return out;
}

}  // namespace

bool KeyExchange::supported(uint16_t group) {
  return find_group(group) != nullptr;
}

std::optional<KeyExchange> KeyExchange::generate(uint16_t group) {
  const GroupInfo* info = find_group(group);
  if (info == nullptr) {
    return std::nullopt;
  }
  EVP_PKEY* key = nullptr;
  switch (info->kind) {
    case GroupKind::kModp: {
      Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                           const_cast<char*>(info->openssl_name), 0),
          OSSL_PARAM_construct_end(),
      };
      if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
          EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 ||
          EVP_PKEY_generate(ctx.get(), &key) != 1) {
        return std::nullopt;
      }
      break;
    }
    case GroupKind::kEcp:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", info->openssl_name);
      break;
    case GroupKind::kX25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
      break;
  }
  if (key == nullptr) {
    return std::nullopt;
  }
  return KeyExchange(group, key);
}

std::optional<KeyExchange> KeyExchange::from_private(uint16_t group, ByteView private_key) {
  const GroupInfo* info = find_group(group);
  if (info == nullptr || private_key.empty()) {
    return std::nullopt;
  }
  Owned<EVP_PKEY> key;
  switch (info->kind) {
    case GroupKind::kModp:
      if (private_key.size() <= info->size) {
        key = modp_from_private(*info, private_key);
      }
      break;
    case GroupKind::kEcp:
      if (private_key.size() <= info->size) {
        key = ecp_from_private(*info, private_key);
      }
      break;
    case GroupKind::kX25519:
      if (private_key.size() == info->size) {
        key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                               private_key.size()));
      }
      break;
  }
  if (!key) {
    return std::nullopt;
  }
  return KeyExchange(group, key.release());
}

KeyExchange::KeyExchange(KeyExchange&& other) noexcept : group_(other.group_), key_(other.key_) {
  other.key_ = nullptr;
}

KeyExchange& KeyExchange::operator=(KeyExchange&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    group_ = other.group_;
    key_ = other.key_;
    other.key_ = nullptr;
  }
  return *this;
}

KeyExchange::~KeyExchange() {
  EVP_PKEY_free(key_);
}

std::size_t KeyExchange::public_value_size() const {
  const GroupInfo* info = find_group(group_);
  if (info == nullptr) {
    return 0;
  }
  return info->kind == GroupKind::kEcp ? 2 * info->size : info->size;
}

Bytes KeyExchange::public_value() const {
  const GroupInfo* info = find_group(group_);
  if (info == nullptr || key_ == nullptr) {
    return {};
  }
  switch (info->kind) {
    case GroupKind::kModp: {
      BIGNUM* raw = nullptr;
      if (EVP_PKEY_get_bn_param(key_, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) {
        return {};
      }
      Owned<BIGNUM> y(raw);
      Bytes out(info->size);
      if (BN_bn2binpad(y.get(), out.data(), static_cast<int>(out.size())) < 0) {
        return {};
      }
      return out;
    }
    case GroupKind::kEcp: {
      // Uncompressed SEC 1 encoding: 0x04 || x || y; KE data drops the 0x04.
      Bytes encoded(1 + 2 * info->size);
      std::size_t length = 0;
      if (EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded.data(),
                                          encoded.size(), &length) != 1 ||
          length != encoded.size() || encoded[0] != POINT_CONVERSION_UNCOMPRESSED) {
        return {};
      }
      return Bytes(encoded.begin() + 1, encoded.end());
    }
    case GroupKind::kX25519: {
      Bytes out(info->size);
      std::size_t length = out.size();
      if (EVP_PKEY_get_raw_public_key(key_, out.data(), &length) != 1 || length != out.size()) {
        return {};
      }
      return out;
    }
  }
  return {};
}

Expected<Secret, std::string> KeyExchange::shared_secret(ByteView peer_public) const {
  const GroupInfo* info = find_group(group_);
  if (info == nullptr || key_ == nullptr) {
    return unexpected(std::string("key exchange: no key"));
  }
  if (peer_public.size() != public_value_size()) {
    return unexpected("key exchange: group " + std::to_string(group_) + " needs " +
                      std::to_string(public_value_size()) + " octets of KE data, got " +
                      std::to_string(peer_public.size()));
  }
  switch (info->kind) {
    case GroupKind::kModp: {
      Owned<BIGNUM> prime = modp_prime(*info);
      Owned<BIGNUM> y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
      Owned<BIGNUM> p_minus_1(prime ? BN_dup(prime.get()) : nullptr);
      if (!prime || !y || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) {
        return unexpected(std::string("key exchange: out of memory"));
      }
      // 1 and p-1 generate subgroups of order 1 and 2: a peer sending them
      // would force a known shared secret.
      if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1.get()) >= 0) {
        return unexpected(std::string("key exchange: MODP public value outside 1 < y < p-1"));
      }
      Owned<EVP_PKEY> peer = key_from_data("DH", *info, y.get(), {}, nullptr);
      if (!peer) {
        return unexpected(std::string("key exchange: MODP public value rejected"));
      }
      auto secret = derive(key_, peer.get(), true);
      if (secret && secret->size() != info->size) {
        return unexpected(std::string("key exchange: DH result has the wrong length"));
      }
      return secret;
    }
    case GroupKind::kEcp: {
      Bytes encoded(1 + peer_public.size());
      encoded[0] = POINT_CONVERSION_UNCOMPRESSED;
      std::copy(peer_public.begin(), peer_public.end(), encoded.begin() + 1);
      // Decoding the point checks that it lies on the curve (RFC 5903 / RFC 6989).
      Owned<EVP_PKEY> peer = key_from_data("EC", *info, nullptr, encoded, nullptr);
      if (!peer) {
        return unexpected(
            std::string("key exchange: ECP public value is not a point on the curve"));
      }
      auto secret = derive(key_, peer.get(), false);
      // RFC 5903 7: the shared secret is the x coordinate alone, field-sized.
      if (secret && secret->size() != info->size) {
        return unexpected(std::string("key exchange: ECDH result has the wrong length"));
      }
      return secret;
    }
    case GroupKind::kX25519: {
      Owned<EVP_PKEY> peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                                       peer_public.size()));
      if (!peer) {
        return unexpected(std::string("key exchange: Curve25519 public value rejected"));
      }
      auto secret = derive(key_, peer.get(), false);
      if (!secret) {
        // OpenSSL refuses the all-zero result of a small-order point here.
        return unexpected(
            std::string("key exchange: Curve25519 agreement failed (small-order point?)"));
      }
      // RFC 8031 2: an all-zero result MUST be rejected; check even if OpenSSL did.
      uint8_t any = 0;
      for (std::size_t i = 0; i < secret->size(); ++i) {
        any |= secret->data()[i];
      }
      if (secret->size() != info->size || any == 0) {
        return unexpected(std::string("key exchange: Curve25519 result is all zero"));
      }
      return secret;
    }
  }
  return unexpected(std::string("key exchange: unknown group"));
}

}  // namespace traverse::ike
