#include "control/ike/crypto/key_material.hh"

#include <algorithm>

namespace traverse::ike {
namespace {

void append(Secret& buffer, std::size_t& offset, ByteView part) {
  std::copy(part.begin(), part.end(), buffer.data() + offset);
  offset += part.size();
}

void append_spi(Secret& buffer, std::size_t& offset, uint64_t spi) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    buffer.data()[offset++] = static_cast<uint8_t>(spi >> shift);
  }
}

// Cuts consecutive keys out of prf+ output.
class KeySlicer {
 public:
  explicit KeySlicer(const Secret& material) : material_(material) {}
  Secret next(std::size_t length) {
    Secret key(material_.view().subspan(offset_, length));
    offset_ += length;
    return key;
  }

 private:
  const Secret& material_;
  std::size_t offset_ = 0;
};

Expected<IkeKeys, std::string> expand_ike_keys(const Prf& prf, const Secret& skeyseed, ByteView ni,
                                               ByteView nr, uint64_t spi_i, uint64_t spi_r,
                                               IkeKeyLengths lengths) {
  if (lengths.prf != prf.output_size()) {
    return unexpected(std::string("IKE key derivation: SK_d/SK_p length ") +
                      std::to_string(lengths.prf) + " differs from the PRF output size " +
                      std::to_string(prf.output_size()));
  }
  Secret seed(ni.size() + nr.size() + 16);
  std::size_t offset = 0;
  append(seed, offset, ni);
  append(seed, offset, nr);
  append_spi(seed, offset, spi_i);
  append_spi(seed, offset, spi_r);
  const std::size_t total = 3 * lengths.prf + 2 * lengths.integ + 2 * lengths.encr;
  Secret material = prf.plus(skeyseed.view(), seed.view(), total);
  if (material.size() != total) {
    return unexpected(std::string("IKE key derivation: prf+ cannot produce ") +
                      std::to_string(total) + " octets");
  }
  KeySlicer slicer(material);
  IkeKeys keys;
  keys.d = slicer.next(lengths.prf);
  keys.ai = slicer.next(lengths.integ);
  keys.ar = slicer.next(lengths.integ);
  keys.ei = slicer.next(lengths.encr);
  keys.er = slicer.next(lengths.encr);
  keys.pi = slicer.next(lengths.prf);
  keys.pr = slicer.next(lengths.prf);
  return keys;
}

}  // namespace

bool is_aead(uint16_t encr_id) {
  return encr_id == kEncrAesGcm16 || encr_id == kEncrChacha20Poly1305;
}

std::optional<std::size_t> encr_key_length(uint16_t encr_id, uint16_t key_bits) {
  switch (encr_id) {
    case kEncrAesCbc:
      if (key_bits == 128 || key_bits == 192 || key_bits == 256) {
        return key_bits / 8;
      }
      return std::nullopt;
    case kEncrAesGcm16:
      if (key_bits == 128 || key_bits == 192 || key_bits == 256) {
        return key_bits / 8 + kAeadSaltSize;
      }
      return std::nullopt;
    case kEncrChacha20Poly1305:
      // RFC 7634 2: no Key Length attribute; the key is always 256 bits.
      if (key_bits == 0 || key_bits == 256) {
        return 32 + kAeadSaltSize;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<std::size_t> integ_key_length(uint16_t integ_id) {
  switch (integ_id) {
    case kIntegNone:
      return 0;
    case kAuthHmacSha2_256_128:
      return 32;
    case kAuthHmacSha2_384_192:
      return 48;
    case kAuthHmacSha2_512_256:
      return 64;
    default:
      return std::nullopt;
  }
}

std::optional<IkeKeyLengths> ike_key_lengths(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id,
                                             uint16_t prf_id) {
  auto encr = encr_key_length(encr_id, key_bits);
  auto integ = integ_key_length(integ_id);
  auto prf = Prf::create(prf_id);
  if (!encr || !integ || !prf) {
    return std::nullopt;
  }
  // RFC 7296 3.3: combined-mode ciphers carry no integrity transform, and the
  // others need one.
  if (is_aead(encr_id) != (integ_id == kIntegNone)) {
    return std::nullopt;
  }
  return IkeKeyLengths{*encr, *integ, prf->output_size()};
}

Secret compute_skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView shared_secret) {
  Secret nonces(ni.size() + nr.size());
  std::size_t offset = 0;
  append(nonces, offset, ni);
  append(nonces, offset, nr);
  return prf.compute(nonces.view(), shared_secret);
}

Secret compute_rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView shared_secret,
                              ByteView ni, ByteView nr) {
  Secret data(shared_secret.size() + ni.size() + nr.size());
  std::size_t offset = 0;
  append(data, offset, shared_secret);
  append(data, offset, ni);
  append(data, offset, nr);
  return old_prf.compute(old_sk_d, data.view());
}

Expected<IkeKeys, std::string> derive_ike_keys(const Prf& prf, ByteView ni, ByteView nr,
                                               ByteView shared_secret, uint64_t spi_i,
                                               uint64_t spi_r, IkeKeyLengths lengths) {
  if (ni.empty() || nr.empty() || shared_secret.empty()) {
    return unexpected(std::string("IKE key derivation: empty nonce or shared secret"));
  }
  Secret skeyseed = compute_skeyseed(prf, ni, nr, shared_secret);
  if (skeyseed.size() != prf.output_size()) {
    return unexpected(std::string("IKE key derivation: the PRF failed to compute SKEYSEED"));
  }
  return expand_ike_keys(prf, skeyseed, ni, nr, spi_i, spi_r, lengths);
}

Expected<IkeKeys, std::string> derive_rekeyed_ike_keys(const Prf& old_prf, ByteView old_sk_d,
                                                       const Prf& new_prf, ByteView shared_secret,
                                                       ByteView ni, ByteView nr, uint64_t spi_i,
                                                       uint64_t spi_r, IkeKeyLengths lengths) {
  // RFC 7296 2.18: rekeying an IKE SA always runs a new key exchange.
  if (ni.empty() || nr.empty() || shared_secret.empty() || old_sk_d.empty()) {
    return unexpected(std::string("IKE SA rekey: empty nonce, shared secret or SK_d"));
  }
  Secret skeyseed = compute_rekey_skeyseed(old_prf, old_sk_d, shared_secret, ni, nr);
  // The old PRF made SKEYSEED; the new one expands it, so its size may differ.
  if (skeyseed.size() != old_prf.output_size()) {
    return unexpected(std::string("IKE SA rekey: the PRF failed to compute SKEYSEED"));
  }
  return expand_ike_keys(new_prf, skeyseed, ni, nr, spi_i, spi_r, lengths);
}

Expected<ChildKeys, std::string> derive_child_keys(const Prf& prf, ByteView sk_d,
                                                   ByteView shared_secret_or_empty, ByteView ni,
                                                   ByteView nr, std::size_t encr_len,
                                                   std::size_t integ_len) {
  if (sk_d.empty() || ni.empty() || nr.empty()) {
    return unexpected(std::string("Child SA key derivation: empty SK_d or nonce"));
  }
  if (encr_len == 0 && integ_len == 0) {
    return unexpected(std::string("Child SA key derivation: no key requested"));
  }
  Secret seed(shared_secret_or_empty.size() + ni.size() + nr.size());
  std::size_t offset = 0;
  append(seed, offset, shared_secret_or_empty);
  append(seed, offset, ni);
  append(seed, offset, nr);
  const std::size_t total = 2 * (encr_len + integ_len);
  Secret material = prf.plus(sk_d, seed.view(), total);
  if (material.size() != total) {
    return unexpected(std::string("Child SA key derivation: prf+ cannot produce ") +
                      std::to_string(total) + " octets");
  }
  KeySlicer slicer(material);
  ChildKeys keys;
  keys.encr_i = slicer.next(encr_len);
  keys.integ_i = slicer.next(integ_len);
  keys.encr_r = slicer.next(encr_len);
  keys.integ_r = slicer.next(integ_len);
  return keys;
}

}  // namespace traverse::ike
