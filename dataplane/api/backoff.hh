// How a control-path caller waits for the other process: spin a little (a
// reply usually comes within microseconds), then sleep 20 us doubling to 1 ms
// so an idle wait never burns a core. One waiter per thread; not shared.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

namespace traverse::api {

class Backoff {
 public:
  static constexpr uint32_t kSpins = 200;
  static constexpr std::chrono::microseconds kFirstSleep{20};
  static constexpr std::chrono::microseconds kMaxSleep{1000};

  // True once spinning is over: the caller may then afford a syscall (for
  // example checking that the peer is still alive) before each wait().
  bool sleeping() const { return spins_ >= kSpins; }

  void wait() {
    if (spins_ < kSpins) {
      ++spins_;
      std::this_thread::yield();
      return;
    }
    std::this_thread::sleep_for(sleep_);
    sleep_ = std::min(sleep_ * 2, kMaxSleep);
  }

  // Progress was made: the next wait starts fast again.
  void reset() {
    spins_ = 0;
    sleep_ = kFirstSleep;
  }

 private:
  uint32_t spins_ = 0;
  std::chrono::microseconds sleep_ = kFirstSleep;
};

}  // namespace traverse::api
