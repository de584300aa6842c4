// One SA's cipher state for one backend, created when the SA is installed and
// used per packet. Methods switch on the backend (no virtual call); nothing
// allocates, locks or throws after create(). A session is used by one thread at
// a time (each SA direction has one owning worker); the per-thread ipsec-mb
// manager comes in through ThreadContext. Keys are wiped on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "drivers/crypto/thread_context.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::crypto {

namespace internal {
struct IpsecMbState;  // ipsec_mb_state.hh
struct OpensslState;  // openssl_state.hh
}  // namespace internal

// Memory a packet's cryptography reads besides the packet itself. The
// dataplane prefetches it for a whole burst before processing the first
// packet: with many SAs each of these is a cache (and TLB) miss, and misses
// overlap only when they are issued together.
struct MemoryRegion {
  const void* address = nullptr;
  uint32_t length = 0;
};
// Enough for an SA: its own object plus a session's (at most 3).
inline constexpr uint32_t kMaxHotRegions = 4;

struct SessionKeys {
  std::span<const uint8_t> cipher_key;  // transform_info().cipher_key_len bytes
  std::span<const uint8_t> salt;        // AEAD: 4 bytes; CBC: empty
  std::span<const uint8_t> auth_key;    // CBC+HMAC: any length >= 1 (32 in ESP); AEAD: empty
};

class CipherSession {
 public:
  // nullptr with a reason in `error` when the keys do not fit the transform or
  // the backend cannot run it.
  static std::unique_ptr<CipherSession> create(Backend backend, Transform transform,
                                               const SessionKeys& keys, std::string* error);
  ~CipherSession();
  CipherSession(const CipherSession&) = delete;
  CipherSession& operator=(const CipherSession&) = delete;

  Backend backend() const { return backend_; }
  // This session and the key schedule its transform uses; writes at most
  // 3 entries to `out` and returns how many.
  uint32_t hot_regions(MemoryRegion* out) const;
  Transform transform() const { return transform_; }

  // AEAD transforms. The nonce is salt || iv (4 + 8 bytes). Encrypts or decrypts
  // `len` bytes of `data` in place; the tag is 16 bytes. aead_open returns false
  // when the tag does not verify (compared in constant time); `data` then holds
  // unspecified bytes and must be dropped.
  void aead_seal(ThreadContext& thread, const uint8_t* iv, const uint8_t* aad, uint32_t aad_len,
                 uint8_t* data, uint32_t len, uint8_t* tag);
  // The same with the IV given by value: its 8 bytes in memory order, as a
  // little-endian load of them gives. For a caller that has just computed
  // the IV (ESP outbound): reading it back from memory would put a
  // store-to-load forwarding round trip on the cipher's critical path.
  void aead_seal(ThreadContext& thread, uint64_t iv, const uint8_t* aad, uint32_t aad_len,
                 uint8_t* data, uint32_t len, uint8_t* tag);
  bool aead_open(ThreadContext& thread, const uint8_t* iv, const uint8_t* aad, uint32_t aad_len,
                 uint8_t* data, uint32_t len, const uint8_t* tag);

  // AES-CBC transforms: in place, `len` a multiple of 16, `iv` 16 bytes.
  void cbc_encrypt(ThreadContext& thread, const uint8_t* iv, uint8_t* data, uint32_t len);
  void cbc_decrypt(ThreadContext& thread, const uint8_t* iv, uint8_t* data, uint32_t len);
  // HMAC-SHA2-256 over `len` bytes, writing the first `out_len` (<= 32) bytes of
  // the MAC to `out`. A larger out_len writes 32 bytes.
  void hmac(ThreadContext& thread, const uint8_t* data, uint32_t len, uint8_t* out,
            uint32_t out_len);

  // A call that does not fit the session (an AEAD method on a CBC session, a
  // CBC or HMAC method on an AEAD session, a CBC length that is not whole
  // blocks) does no cryptography and fails closed: aead_open returns false;
  // aead_seal, cbc_encrypt and cbc_decrypt zero `data` (and `tag`); hmac writes
  // random bytes, so that an ICV compared against them does not verify.

 private:
  CipherSession(Backend backend, Transform transform);

  Backend backend_;
  Transform transform_;
  // Exactly one is set, by backend_. Heap-held so that this header stays free
  // of both libraries' types; allocated once, at create(). Defined in
  // ipsec_mb_state.hh and openssl_state.hh; each wipes its keys when freed.
  std::unique_ptr<internal::IpsecMbState> ipsec_mb_;
  std::unique_ptr<internal::OpensslState> openssl_;
};

}  // namespace traverse::crypto
