// The per-packet methods allocate nothing, on either backend: OpenSSL's
// allocator hooks and the replaced global operator new count every
// allocation, and a warmed-up session must add none. (intel-ipsec-mb
// allocates only in alloc_mb_mgr, when a ThreadContext is made.)
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "drivers/crypto/test_vectors.hh"

namespace {

std::atomic<long> g_allocations{0};

void* counting_malloc(size_t n, const char*, int) {
  ++g_allocations;
  return std::malloc(n);
}
void* counting_realloc(void* p, size_t n, const char*, int) {
  ++g_allocations;
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) {
  std::free(p);
}

// Before main: OpenSSL accepts hooks only until its first allocation.
// NOLINTNEXTLINE(cert-err58-cpp): a C function, it cannot throw
const bool g_hooks_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

}  // namespace

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) {
    return p;
  }
  std::abort();  // this test binary has no use for bad_alloc
}
void* operator new[](size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace traverse::crypto::test {
namespace {

// Every method a packet can reach, once, including a rejected forgery.
void run_packet_methods(ThreadContext& thread, CipherSession& s, uint8_t* buf, uint32_t len) {
  const uint8_t iv[16] = {9, 8, 7};
  const uint8_t aad[12] = {1, 2, 3};
  uint8_t tag[32] = {};
  if (transform_info(s.transform()).aead) {
    s.aead_seal(thread, iv, aad, sizeof aad, buf, len, tag);
    (void)s.aead_open(thread, iv, aad, sizeof aad, buf, len, tag);
    tag[0] ^= 1;
    (void)s.aead_open(thread, iv, aad, sizeof aad, buf, len, tag);
  } else {
    s.cbc_encrypt(thread, iv, buf, len / 16 * 16);
    s.hmac(thread, buf, len, tag, 16);
    s.hmac(thread, buf, len, tag, 32);
    s.hmac(thread, buf, len, tag, 20);
    s.cbc_decrypt(thread, iv, buf, len / 16 * 16);
  }
}

TEST(NoAllocation, PerPacketMethods) {
  ASSERT_TRUE(g_hooks_installed) << "OpenSSL allocated before the counting hooks went in";
  ThreadContext thread;
  static uint8_t buf[9000];
  for (Transform t : kAllTransforms) {
    for (Backend b : kAllBackends) {
      const TransformInfo info = transform_info(t);
      auto s = make_session(b, t, std::vector<uint8_t>(info.cipher_key_len, 1),
                            std::vector<uint8_t>(info.salt_len, 2),
                            std::vector<uint8_t>(info.auth_key_len, 3));
      ASSERT_NE(s, nullptr);
      run_packet_methods(thread, *s, buf, 64);  // warm up lazily made per-thread state
      const long before = g_allocations.load();
      for (uint32_t len : {0u, 1u, 16u, 64u, 1400u, 1500u, 9000u}) {
        run_packet_methods(thread, *s, buf, len);
      }
      EXPECT_EQ(g_allocations.load() - before, 0)
          << info.name << " on " << backend_name(b) << " allocates per packet";
    }
  }
}

}  // namespace
}  // namespace traverse::crypto::test
