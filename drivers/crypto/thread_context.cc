// Allocates the per-thread intel-ipsec-mb managers. Runs at start-up only: a
// manager that cannot be allocated ends the process, as nothing can be
// encrypted without it.
#include "drivers/crypto/thread_context.hh"

#include <cstdio>
#include <cstdlib>

#include "drivers/crypto/imb.hh"

namespace traverse::crypto {
namespace {

IMB_MGR* alloc_manager() {
  IMB_MGR* mgr = alloc_mb_mgr(0);
  if (mgr == nullptr) {
    std::fprintf(stderr, "traverse: intel-ipsec-mb alloc_mb_mgr failed: %s\n",
                 imb_get_strerror(imb_get_errno(nullptr)));
    std::abort();
  }
  return mgr;
}

}  // namespace

ThreadContext::ThreadContext() : mgr_(alloc_manager()), hmac_mgr_(nullptr) {
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr_, &arch);
  if (imb_get_errno(mgr_) != 0) {
    std::fprintf(stderr, "traverse: intel-ipsec-mb init_mb_mgr_auto failed: %s\n",
                 imb_get_strerror(imb_get_errno(mgr_)));
    std::abort();
  }
  hmac_mgr_ = mgr_;
  if (arch == IMB_ARCH_AVX512 && (mgr_->features & IMB_FEATURE_SHANI) != 0) {
    IMB_MGR* avx2 = alloc_manager();
    init_mb_mgr_avx2(avx2);
    if (imb_get_errno(avx2) == 0) {
      hmac_mgr_ = avx2;
    } else {
      free_mb_mgr(avx2);  // slower but correct: hash on mgr_
    }
  }
}

ThreadContext::~ThreadContext() {
  if (hmac_mgr_ != mgr_) {
    free_mb_mgr(hmac_mgr_);
  }
  free_mb_mgr(mgr_);
}

}  // namespace traverse::crypto
