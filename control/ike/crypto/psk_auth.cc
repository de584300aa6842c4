#include "control/ike/crypto/psk_auth.hh"

#include <openssl/crypto.h>

#include <string_view>

namespace traverse::ike {
namespace {

// RFC 7296 2.15: 17 ASCII characters, no terminating NUL.
constexpr std::string_view kKeyPad = "Key Pad for IKEv2";

}  // namespace

Bytes signed_octets(ByteView first_message_of_this_side, ByteView peer_nonce, const Prf& prf,
                    ByteView sk_p, ByteView id_payload_body) {
  Secret maced_id = prf.compute(sk_p, id_payload_body);
  if (maced_id.empty()) {
    return {};
  }
  Bytes out;
  out.reserve(first_message_of_this_side.size() + peer_nonce.size() + maced_id.size());
  out.insert(out.end(), first_message_of_this_side.begin(), first_message_of_this_side.end());
  out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
  out.insert(out.end(), maced_id.data(), maced_id.data() + maced_id.size());
  return out;
}

Secret psk_auth_value(const Prf& prf, ByteView psk, ByteView signed_octets) {
  Secret padded_key = prf.compute(psk, as_bytes(kKeyPad));
  if (padded_key.empty()) {
    return {};
  }
  return prf.compute(padded_key.view(), signed_octets);
}

bool psk_auth_verify(const Prf& prf, ByteView psk, ByteView signed_octets, ByteView received_auth) {
  if (psk.empty() || received_auth.size() != prf.output_size()) {
    return false;
  }
  Secret expected = psk_auth_value(prf, psk, signed_octets);
  return expected.size() == received_auth.size() &&
         CRYPTO_memcmp(expected.data(), received_auth.data(), expected.size()) == 0;
}

}  // namespace traverse::ike
