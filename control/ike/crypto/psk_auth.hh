// Pre-shared key authentication (RFC 7296 2.15): the signed octets of each
// side and AUTH = prf(prf(PSK, "Key Pad for IKEv2"), signed octets). Pure
// functions: safe from any thread.
#pragma once

#include "control/ike/bytes.hh"
#include "control/ike/crypto/prf.hh"

namespace traverse::ike {

// InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI (and the
// mirror image for the responder), with MACedIDForX = prf(SK_px, IDx'), where
// IDx' is the ID payload body: ID type, three reserved octets, identification
// data (everything after the generic payload header).
Bytes signed_octets(ByteView first_message_of_this_side, ByteView peer_nonce, const Prf& prf,
                    ByteView sk_p, ByteView id_payload_body);

// The AUTH payload's authentication data for shared key message integrity code
// (method 2). Empty if the PRF fails.
Secret psk_auth_value(const Prf& prf, ByteView psk, ByteView signed_octets);

// Recomputes the value and compares it in constant time; false on any length
// mismatch or an empty PSK.
bool psk_auth_verify(const Prf& prf, ByteView psk, ByteView signed_octets, ByteView received_auth);

}  // namespace traverse::ike
