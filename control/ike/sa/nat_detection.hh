// NAT detection (RFC 7296 2.23): SHA-1 over the SPIs and one endpoint, sent
// as NAT_DETECTION_SOURCE_IP / _DESTINATION_IP. A mismatch on receipt means a
// NAT rewrote that endpoint. Pure functions.
#pragma once

#include <cstdint>

#include "control/ike/bytes.hh"
#include "control/ike/sa/ike_types.hh"

namespace traverse::ike {

Bytes nat_detection_hash(uint64_t spi_i, uint64_t spi_r, const Endpoint& endpoint);

// Random bytes from OpenSSL's DRBG (nonces, SPIs, IVs).
Bytes random_bytes(std::size_t n);
uint64_t random_u64();

}  // namespace traverse::ike
