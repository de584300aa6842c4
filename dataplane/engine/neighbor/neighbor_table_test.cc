// The neighbor cache on a real rte_hash (EAL without hugepages): learning,
// lookups, expiry, refresh, solicitation limits, RCU-deferred slot reuse, and
// a writer racing a lock-free reader.
#include "dataplane/engine/neighbor/neighbor_table.hh"

#include <gtest/gtest.h>
#include <pthread.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace traverse::engine {
namespace {

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // A unique prefix so parallel test processes never share EAL files.
    std::string prefix = "--file-prefix=traverse_nbr_" + std::to_string(getpid());
    std::vector<std::string> args = {"neighbor_test", "--no-huge",         "-m",  "256", "--no-pci",
                                     "--no-shconf",   "--log-level=error", prefix};
    std::vector<char*> argv;
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "rte_eal_init failed";
  }
  void TearDown() override { rte_eal_cleanup(); }
};

[[maybe_unused]] ::testing::Environment* const kEal =
    ::testing::AddGlobalTestEnvironment(new EalEnvironment);

esp::IpAddress ip(const char* text) {
  return *esp::IpAddress::parse(text);
}

constexpr uint32_t kMaxReaders = 4;

class NeighborCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const size_t size = rte_rcu_qsbr_get_memsize(kMaxReaders);
    rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("nbr_test_rcu", size, RTE_CACHE_LINE_SIZE));
    ASSERT_NE(rcu_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(rcu_, kMaxReaders), 0);
  }
  void TearDown() override {
    cache_.reset();  // frees the hash (and its defer queue) before the RCU variable
    rte_free(rcu_);
  }

  // Times are milliseconds; the scan runs on every expire() unless a test
  // wants the throttle.
  NeighborConfig config() {
    NeighborConfig c;
    static int serial = 0;
    c.name = "nbr_test_" + std::to_string(serial++);
    c.capacity = 64;
    c.ticks_per_second = 1000;
    c.scan_interval_ms = 0;
    return c;
  }
  NeighborCache& make(const NeighborConfig& c) {
    cache_ = std::make_unique<NeighborCache>();
    std::string error;
    EXPECT_TRUE(cache_->init(c, rcu_, &error)) << error;
    return *cache_;
  }
  bool has(NeighborCache& cache, const esp::IpAddress& a, uint8_t* mac = nullptr) {
    uint8_t scratch[6];
    return cache.lookup(a.version, a.bytes.data(), mac != nullptr ? mac : scratch);
  }
  // Solicits then learns: the normal way an entry appears.
  LearnResult resolve(NeighborCache& cache, const esp::IpAddress& a, const uint8_t* mac,
                      uint64_t now) {
    cache.should_solicit(a, now);
    return cache.learn(a, mac, now);
  }

  rte_rcu_qsbr* rcu_ = nullptr;
  std::unique_ptr<NeighborCache> cache_;
};

const uint8_t kMac1[6] = {0x02, 0, 0, 0, 0, 1};
const uint8_t kMac2[6] = {0x02, 0, 0, 0, 0, 2};

TEST_F(NeighborCacheTest, InitRejectsBadConfigs) {
  std::string error;
  NeighborCache no_rcu;
  EXPECT_FALSE(no_rcu.init(config(), nullptr, &error));
  EXPECT_NE(error.find("RCU"), std::string::npos);
  NeighborConfig long_name = config();
  long_name.name = "a_name_that_is_far_too_long";
  NeighborCache a;
  EXPECT_FALSE(a.init(long_name, rcu_, &error));
  NeighborConfig tiny = config();
  tiny.capacity = 4;
  NeighborCache b;
  EXPECT_FALSE(b.init(tiny, rcu_, &error));
  NeighborConfig backwards = config();
  backwards.lifetime_ms = backwards.reachable_ms - 1;
  NeighborCache c;
  EXPECT_FALSE(c.init(backwards, rcu_, &error));
}

TEST_F(NeighborCacheTest, CreatesOnlyWhatWasSolicited) {
  NeighborCache& cache = make(config());
  const esp::IpAddress a = ip("192.0.2.10");
  EXPECT_EQ(cache.learn(a, kMac1, 0), LearnResult::not_requested);
  EXPECT_FALSE(has(cache, a));
  EXPECT_TRUE(cache.should_solicit(a, 0));
  EXPECT_EQ(cache.pending(), 1u);
  EXPECT_EQ(cache.learn(a, kMac1, 5), LearnResult::added);
  EXPECT_EQ(cache.pending(), 0u);
  uint8_t mac[6];
  ASSERT_TRUE(has(cache, a, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac1, 6));
  rte_ether_addr ether;
  ASSERT_TRUE(cache.lookup(a, &ether));
  EXPECT_EQ(0, std::memcmp(ether.addr_bytes, kMac1, 6));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.counters().added, 1u);
  EXPECT_EQ(cache.counters().not_requested, 1u);
}

TEST_F(NeighborCacheTest, LearnsUnsolicitedWhenConfigured) {
  NeighborConfig c = config();
  c.learn_unsolicited = true;
  NeighborCache& cache = make(c);
  EXPECT_EQ(cache.learn(ip("2001:db8::5"), kMac1, 0), LearnResult::added);
  EXPECT_TRUE(has(cache, ip("2001:db8::5")));
}

TEST_F(NeighborCacheTest, VersionsAreSeparateKeys) {
  NeighborCache& cache = make(config());
  const esp::IpAddress v4 = ip("192.0.2.10");
  const esp::IpAddress v6 = ip("2001:db8::c000:20a");  // same low 32 bits
  ASSERT_EQ(resolve(cache, v4, kMac1, 0), LearnResult::added);
  ASSERT_EQ(resolve(cache, v6, kMac2, 0), LearnResult::added);
  uint8_t mac[6];
  ASSERT_TRUE(has(cache, v4, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac1, 6));
  ASSERT_TRUE(has(cache, v6, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac2, 6));
  // The IPv4-mapped form of the IPv4 address is never a neighbor.
  EXPECT_FALSE(has(cache, ip("::ffff:192.0.2.10")));
  EXPECT_EQ(cache.learn(ip("::ffff:192.0.2.10"), kMac1, 0), LearnResult::invalid);
  // Only the first four bytes of an IPv4 address matter.
  esp::IpAddress noisy = v4;
  noisy.bytes[8] = 0x55;
  EXPECT_TRUE(has(cache, noisy));
  EXPECT_EQ(cache.learn(noisy, kMac1, 1), LearnResult::confirmed);
}

TEST_F(NeighborCacheTest, ConfirmChangeAndNoOverride) {
  NeighborCache& cache = make(config());
  const esp::IpAddress a = ip("192.0.2.10");
  ASSERT_EQ(resolve(cache, a, kMac1, 0), LearnResult::added);
  EXPECT_EQ(cache.learn(a, kMac1, 10), LearnResult::confirmed);
  NeighborLearn na;
  na.ip = a;
  std::memcpy(na.mac.data(), kMac2, 6);
  na.source = NeighborSource::neighbor_advertisement;
  na.may_override = false;
  EXPECT_EQ(cache.learn(na, 20), LearnResult::kept);
  uint8_t mac[6];
  ASSERT_TRUE(has(cache, a, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac1, 6));
  na.may_override = true;
  EXPECT_EQ(cache.learn(na, 30), LearnResult::changed);
  ASSERT_TRUE(has(cache, a, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac2, 6));
  // A pending address takes the MAC of an advertisement without override.
  const esp::IpAddress b = ip("192.0.2.11");
  cache.should_solicit(b, 30);
  na.ip = b;
  na.may_override = false;
  EXPECT_EQ(cache.learn(na, 31), LearnResult::added);
}

TEST_F(NeighborCacheTest, RejectsInvalidEntries) {
  NeighborConfig c = config();
  c.learn_unsolicited = true;
  NeighborCache& cache = make(c);
  const uint8_t multicast[6] = {0x01, 0, 0x5e, 0, 0, 1};
  const uint8_t zero[6] = {};
  EXPECT_EQ(cache.learn(ip("192.0.2.1"), multicast, 0), LearnResult::invalid);
  EXPECT_EQ(cache.learn(ip("192.0.2.1"), zero, 0), LearnResult::invalid);
  EXPECT_EQ(cache.learn(ip("224.0.0.1"), kMac1, 0), LearnResult::invalid);
  EXPECT_EQ(cache.learn(ip("::"), kMac1, 0), LearnResult::invalid);
  EXPECT_EQ(cache.learn(esp::IpAddress{}, kMac1, 0), LearnResult::invalid);
  EXPECT_FALSE(cache.should_solicit(ip("ff02::1"), 0));
  EXPECT_FALSE(cache.should_solicit(ip("0.0.0.0"), 0));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().invalid, 5u);
}

TEST_F(NeighborCacheTest, ExpiresUnconfirmedEntries) {
  NeighborConfig c = config();
  c.lifetime_ms = 60'000;
  NeighborCache& cache = make(c);
  const esp::IpAddress a = ip("192.0.2.10");
  const esp::IpAddress b = ip("2001:db8::b");
  ASSERT_EQ(resolve(cache, a, kMac1, 0), LearnResult::added);
  ASSERT_EQ(resolve(cache, b, kMac2, 0), LearnResult::added);
  EXPECT_EQ(cache.learn(b, kMac2, 30'000), LearnResult::confirmed);
  EXPECT_EQ(cache.expire(59'999), 0u);
  EXPECT_EQ(cache.expire(60'000), 1u);
  EXPECT_FALSE(has(cache, a));
  EXPECT_TRUE(has(cache, b));
  EXPECT_EQ(cache.expire(90'000), 1u);
  EXPECT_FALSE(has(cache, b));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().expired, 2u);
  // Gone means unsolicited again.
  EXPECT_EQ(cache.learn(a, kMac1, 90'001), LearnResult::not_requested);
}

TEST_F(NeighborCacheTest, PinnedEntriesStay) {
  NeighborCache& cache = make(config());
  const esp::IpAddress gw = ip("192.0.2.1");
  EXPECT_EQ(cache.pin(gw, kMac1), LearnResult::added);  // no solicitation needed
  uint8_t mac[6];
  ASSERT_TRUE(has(cache, gw, mac));
  EXPECT_EQ(cache.learn(gw, kMac2, 10), LearnResult::kept);  // the wire cannot move it
  ASSERT_TRUE(has(cache, gw, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac1, 6));
  std::vector<esp::IpAddress> refresh;
  EXPECT_EQ(cache.expire(10'000'000, &refresh), 0u);
  EXPECT_TRUE(refresh.empty());
  EXPECT_TRUE(has(cache, gw));
  EXPECT_EQ(cache.pin(gw, kMac2), LearnResult::changed);
  ASSERT_TRUE(has(cache, gw, mac));
  EXPECT_EQ(0, std::memcmp(mac, kMac2, 6));
  // A learned entry becomes permanent when pinned.
  const esp::IpAddress other = ip("2001:db8::2");
  ASSERT_EQ(resolve(cache, other, kMac1, 0), LearnResult::added);
  EXPECT_EQ(cache.pin(other, kMac1), LearnResult::confirmed);
  EXPECT_EQ(cache.expire(20'000'000), 0u);
  int permanent = 0;
  cache.for_each([&](const esp::IpAddress&, const std::array<uint8_t, 6>&, uint64_t, bool p) {
    permanent += p ? 1 : 0;
  });
  EXPECT_EQ(permanent, 2);
  EXPECT_TRUE(cache.remove(gw));
  EXPECT_FALSE(has(cache, gw));
  EXPECT_EQ(cache.pin(ip("224.0.0.1"), kMac1), LearnResult::invalid);
}

TEST_F(NeighborCacheTest, ScansAtMostOncePerInterval) {
  NeighborConfig c = config();
  c.scan_interval_ms = 1'000;
  c.reachable_ms = 100;
  c.lifetime_ms = 100;
  NeighborCache& cache = make(c);
  ASSERT_EQ(resolve(cache, ip("192.0.2.10"), kMac1, 0), LearnResult::added);
  EXPECT_EQ(cache.expire(50), 0u);   // scans; too young
  EXPECT_EQ(cache.expire(500), 0u);  // old enough, but no scan yet
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.expire(1'050), 1u);
}

TEST_F(NeighborCacheTest, RefreshListsOnlyEntriesInUse) {
  NeighborConfig c = config();
  c.reachable_ms = 30'000;
  c.lifetime_ms = 60'000;
  NeighborCache& cache = make(c);
  const esp::IpAddress used = ip("192.0.2.10");
  const esp::IpAddress idle = ip("192.0.2.11");
  ASSERT_EQ(resolve(cache, used, kMac1, 0), LearnResult::added);
  ASSERT_EQ(resolve(cache, idle, kMac2, 0), LearnResult::added);
  std::vector<esp::IpAddress> refresh;
  cache.expire(1'000, &refresh);  // clears the "in use" marks of the solicitation
  EXPECT_TRUE(refresh.empty());
  EXPECT_TRUE(has(cache, used));
  cache.expire(29'000, &refresh);  // in use, not old enough
  EXPECT_TRUE(refresh.empty());
  EXPECT_TRUE(has(cache, used));
  cache.expire(31'000, &refresh);
  ASSERT_EQ(refresh.size(), 1u);
  EXPECT_EQ(refresh[0], used);
  // The refresh goes through the rate limiter; the answer confirms it.
  EXPECT_TRUE(cache.should_solicit(used, 31'000));
  EXPECT_EQ(cache.learn(used, kMac1, 31'010), LearnResult::confirmed);
  EXPECT_EQ(cache.pending(), 0u);
  refresh.clear();
  EXPECT_EQ(cache.expire(61'000, &refresh), 1u);  // the idle one
  EXPECT_TRUE(refresh.empty());                   // not looked up since
  EXPECT_TRUE(has(cache, used));
  EXPECT_FALSE(has(cache, idle));
}

TEST_F(NeighborCacheTest, SolicitationIsRateLimitedPerAddress) {
  NeighborConfig c = config();
  c.solicit_interval_ms = 1'000;
  NeighborCache& cache = make(c);
  const esp::IpAddress a = ip("192.0.2.10");
  const esp::IpAddress b = ip("2001:db8::b");
  EXPECT_TRUE(cache.should_solicit(a, 0));
  EXPECT_FALSE(cache.should_solicit(a, 1));
  EXPECT_FALSE(cache.should_solicit(a, 999));
  EXPECT_TRUE(cache.should_solicit(b, 999));
  EXPECT_TRUE(cache.should_solicit(a, 1'000));
  EXPECT_FALSE(cache.should_solicit(a, 1'500));
  EXPECT_TRUE(cache.should_solicit(a, 2'000));
  EXPECT_EQ(cache.counters().solicited, 4u);
  EXPECT_EQ(cache.counters().solicit_limited, 3u);
}

TEST_F(NeighborCacheTest, PendingSetIsBounded) {
  NeighborConfig c = config();
  c.max_pending = 4;
  c.pending_timeout_ms = 3'000;
  NeighborCache& cache = make(c);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_TRUE(cache.should_solicit(ip(("192.0.2." + std::to_string(i)).c_str()), 0));
  }
  EXPECT_FALSE(cache.should_solicit(ip("192.0.2.5"), 100));
  EXPECT_EQ(cache.counters().pending_full, 1u);
  // An answer frees a place.
  EXPECT_EQ(cache.learn(ip("192.0.2.1"), kMac1, 200), LearnResult::added);
  EXPECT_TRUE(cache.should_solicit(ip("192.0.2.5"), 300));
  EXPECT_FALSE(cache.should_solicit(ip("192.0.2.6"), 400));
  // Unanswered addresses time out (3 s after their last solicitation).
  EXPECT_TRUE(cache.should_solicit(ip("192.0.2.6"), 3'000));
  EXPECT_EQ(cache.pending(), 2u);  // .5 (sent at 300) and .6
}

TEST_F(NeighborCacheTest, LateAnswerIsNotTaken) {
  NeighborConfig c = config();
  c.pending_timeout_ms = 3'000;
  NeighborCache& cache = make(c);
  const esp::IpAddress a = ip("192.0.2.10");
  EXPECT_TRUE(cache.should_solicit(a, 0));
  cache.expire(3'000);
  EXPECT_EQ(cache.pending(), 0u);
  EXPECT_EQ(cache.learn(a, kMac1, 3'001), LearnResult::not_requested);
}

TEST_F(NeighborCacheTest, CapacityAndSlotReuse) {
  NeighborConfig c = config();
  c.capacity = 8;
  c.learn_unsolicited = true;
  c.reachable_ms = 500;
  c.lifetime_ms = 1'000;
  NeighborCache& cache = make(c);
  for (int i = 1; i <= 8; ++i) {
    EXPECT_EQ(cache.learn(ip(("10.0.0." + std::to_string(i)).c_str()), kMac1, 0),
              LearnResult::added);
  }
  EXPECT_EQ(cache.learn(ip("10.0.0.9"), kMac1, 0), LearnResult::table_full);
  EXPECT_TRUE(cache.remove(ip("10.0.0.1")));
  EXPECT_FALSE(cache.remove(ip("10.0.0.1")));
  EXPECT_EQ(cache.learn(ip("10.0.0.9"), kMac1, 0), LearnResult::added);
  EXPECT_EQ(cache.expire(1'000), 8u);
  // No reader is registered, so the grace period is over at once.
  for (int i = 1; i <= 8; ++i) {
    EXPECT_EQ(cache.learn(ip(("10.0.1." + std::to_string(i)).c_str()), kMac2, 1'000),
              LearnResult::added);
  }
}

// A deleted key slot must not be reused while a registered reader may still
// hold it: the table stays full until the reader reports a quiescent state.
TEST_F(NeighborCacheTest, SlotsWaitForTheGracePeriod) {
  NeighborConfig c = config();
  c.capacity = 8;
  c.learn_unsolicited = true;
  c.reachable_ms = 500;
  c.lifetime_ms = 1'000;
  NeighborCache& cache = make(c);
  for (int i = 1; i <= 8; ++i) {
    ASSERT_EQ(cache.learn(ip(("10.0.0." + std::to_string(i)).c_str()), kMac1, 0),
              LearnResult::added);
  }
  ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu_, 0), 0);
  rte_rcu_qsbr_thread_online(rcu_, 0);
  EXPECT_EQ(cache.expire(1'000), 8u);
  EXPECT_EQ(cache.learn(ip("10.0.1.1"), kMac2, 1'000), LearnResult::table_full);
  rte_rcu_qsbr_quiescent(rcu_, 0);
  EXPECT_EQ(cache.learn(ip("10.0.1.1"), kMac2, 1'001), LearnResult::added);
  rte_rcu_qsbr_thread_offline(rcu_, 0);
  rte_rcu_qsbr_thread_unregister(rcu_, 0);
}

// The MAC written for an address encodes it: 02:VG:a:b:c:d, where a..d are the
// address's last four bytes, V the version bit and G a generation, so a reader
// can tell a wrong or torn MAC from a right one.
void mac_for(const esp::IpAddress& a, uint8_t generation, uint8_t* mac) {
  mac[0] = 0x02;
  mac[1] = static_cast<uint8_t>((a.version == 6 ? 0x80 : 0) | (generation & 0x7f));
  std::memcpy(mac + 2, a.bytes.data() + a.length() - 4, 4);
}

// rte_eal_init pins the main thread to one CPU and new threads inherit that;
// the reader should run beside the writer like a worker lcore does.
void unpin_current_thread() {
  cpu_set_t all;
  CPU_ZERO(&all);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (long i = 0; i < cpus && i < CPU_SETSIZE; ++i) {
    CPU_SET(i, &all);
  }
  pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}

TEST_F(NeighborCacheTest, ConcurrentWriterAndReader) {
  NeighborConfig c = config();
  c.capacity = 64;  // fewer than the addresses: the table fills and drains
  c.learn_unsolicited = true;
  c.reachable_ms = 10;
  c.lifetime_ms = 20;
  NeighborCache& cache = make(c);
  std::vector<esp::IpAddress> addresses;
  for (int i = 0; i < 64; ++i) {
    addresses.push_back(
        ip(("10.1." + std::to_string(i / 8) + "." + std::to_string(i + 1)).c_str()));
    addresses.push_back(ip(("2001:db8::" + std::to_string(i + 1)).c_str()));
  }
  // The first few are re-learned all the time with changing MACs and never
  // removed, so readers always have entries to hit while the MAC changes
  // under them; the others are added, changed, removed and expired at random.
  constexpr size_t kStable = 16;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  std::atomic<uint64_t> bad{0};
  std::thread reader([&] {
    unpin_current_thread();
    rte_rcu_qsbr_thread_register(rcu_, 1);
    rte_rcu_qsbr_thread_online(rcu_, 1);
    std::mt19937 rng(1);
    uint64_t h = 0;
    uint64_t m = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 64; ++i) {
        const esp::IpAddress& a = addresses[rng() % addresses.size()];
        uint8_t mac[6];
        if (!cache.lookup(a.version, a.bytes.data(), mac)) {
          ++m;
          continue;
        }
        ++h;
        uint8_t want[6];
        mac_for(a, 0, want);
        if (mac[0] != want[0] || (mac[1] & 0x80) != (want[1] & 0x80) ||
            std::memcmp(mac + 2, want + 2, 4) != 0) {
          bad.fetch_add(1, std::memory_order_relaxed);
        }
      }
      rte_rcu_qsbr_quiescent(rcu_, 1);  // once per "poll loop"
    }
    rte_rcu_qsbr_thread_offline(rcu_, 1);
    rte_rcu_qsbr_thread_unregister(rcu_, 1);
    hits = h;
    misses = m;
  });

  std::mt19937 rng(2);
  uint64_t now = 0;
  uint64_t added = 0;
  uint64_t changed = 0;
  uint64_t full = 0;
  uint64_t rounds = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < deadline || rounds < 20'000) {
    ++rounds;
    uint8_t mac[6];
    const esp::IpAddress& stable = addresses[rounds % kStable];
    mac_for(stable, static_cast<uint8_t>(rounds), mac);
    cache.learn(stable, mac, now);

    const esp::IpAddress& a = addresses[kStable + rng() % (addresses.size() - kStable)];
    mac_for(a, static_cast<uint8_t>(rng()), mac);
    switch (rng() % 8) {
      case 0:
        cache.remove(a);
        break;
      case 1:
        now += 1;
        cache.expire(now);
        break;
      default:
        switch (cache.learn(a, mac, now)) {
          case LearnResult::added:
            ++added;
            break;
          case LearnResult::changed:
            ++changed;
            break;
          case LearnResult::table_full:
            ++full;
            break;
          default:
            break;
        }
    }
    if (rounds % 1024 == 0) {
      std::this_thread::yield();  // lets the reader in even on a single CPU
    }
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(misses.load(), 0u);
  EXPECT_GT(added, 64u);  // deleted slots came back after grace periods
  EXPECT_GT(changed, 0u);
  RecordProperty("lookups", std::to_string(hits.load() + misses.load()));
  RecordProperty("writer_rounds", std::to_string(rounds));
  RecordProperty("table_full", std::to_string(full));
}

}  // namespace
}  // namespace traverse::engine
