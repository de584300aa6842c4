// Per-thread crypto state: the intel-ipsec-mb managers (one set per thread, as
// the library requires). Create one per worker lcore or client thread; never
// share.
#pragma once

struct IMB_MGR;

namespace traverse::crypto {

class CipherSession;

class ThreadContext {
 public:
  ThreadContext();
  ~ThreadContext();
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;

  IMB_MGR* ipsec_mb() const { return mgr_; }

 private:
  friend class CipherSession;

  // init_mb_mgr_auto's choice: AVX-512 with VAES on current servers, the
  // fastest for AES-GCM, AES-CBC and ChaCha20-Poly1305.
  IMB_MGR* mgr_;
  // Runs HMAC-SHA-256. ipsec-mb 1.3's AVX-512 manager hashes one buffer in a
  // 16-lane SIMD kernel, about 5x slower than the SHA-NI code the AVX2 manager
  // uses; so on an AVX-512 CPU with SHA-NI this is a second, AVX2 manager,
  // and otherwise it is mgr_ itself.
  IMB_MGR* hmac_mgr_;
};

}  // namespace traverse::crypto
