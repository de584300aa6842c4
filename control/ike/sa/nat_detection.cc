#include "control/ike/sa/nat_detection.hh"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "control/ike/sa/payload_util.hh"

namespace traverse::ike {

Bytes nat_detection_hash(uint64_t spi_i, uint64_t spi_r, const Endpoint& endpoint) {
  Bytes input = be64(spi_i);
  Bytes r = be64(spi_r);
  input.insert(input.end(), r.begin(), r.end());
  if (endpoint.address().is_v4()) {
    auto a = endpoint.address().to_v4().to_bytes();
    input.insert(input.end(), a.begin(), a.end());
  } else {
    auto a = endpoint.address().to_v6().to_bytes();
    input.insert(input.end(), a.begin(), a.end());
  }
  input.push_back(static_cast<uint8_t>(endpoint.port() >> 8));
  input.push_back(static_cast<uint8_t>(endpoint.port()));
  Bytes out(20);
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &len, EVP_sha1(), nullptr) != 1) {
    out.clear();  // never matches: treated as "NAT present", the safe side
  }
  return out;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    // Without randomness no nonce or SPI is safe: stop rather than continue.
    std::abort();
  }
  return out;
}

uint64_t random_u64() {
  Bytes b = random_bytes(8);
  uint64_t v = 0;
  for (uint8_t x : b)
    v = (v << 8) | x;
  return v;
}

}  // namespace traverse::ike
