#include "control/gateway/address_pool.hh"

#include <gtest/gtest.h>
#include <malloc.h>

namespace traverse::gateway {
namespace {

using std::chrono::seconds;

AddressPool make_pool(const char* cidr, seconds lease = seconds(100)) {
  return AddressPool("office", *Cidr::parse(cidr), lease);
}

std::string acquire(AddressPool& pool, const char* identity, TimePoint now) {
  auto address = pool.acquire(identity, now);
  return address ? address->to_string() : "error: " + address.error();
}

TEST(AddressPool, Slash30HasTwoHostsAndExcludesNetworkAndBroadcast) {
  const TimePoint t0{};
  AddressPool pool = make_pool("10.99.0.0/30");
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(acquire(pool, "alice", t0), "10.99.0.1");
  EXPECT_EQ(acquire(pool, "bob", t0), "10.99.0.2");
  auto third = pool.acquire("carol", t0);
  ASSERT_FALSE(third);
  EXPECT_NE(third.error().find("pool 'office' (10.99.0.0/30) is exhausted"), std::string::npos)
      << third.error();
  EXPECT_EQ(pool.online_count(), 2u);
}

TEST(AddressPool, TinyIpv4Pools) {
  const TimePoint t0{};
  AddressPool p31 = make_pool("10.0.0.0/31");  // RFC 3021: both usable
  EXPECT_EQ(p31.size(), 2u);
  EXPECT_EQ(acquire(p31, "a", t0), "10.0.0.0");
  EXPECT_EQ(acquire(p31, "b", t0), "10.0.0.1");
  EXPECT_FALSE(p31.acquire("c", t0));
  AddressPool p32 = make_pool("10.0.0.9/32");
  EXPECT_EQ(p32.size(), 1u);
  EXPECT_EQ(acquire(p32, "a", t0), "10.0.0.9");
  EXPECT_FALSE(p32.acquire("b", t0));
  AddressPool p24 = make_pool("10.99.0.0/24");
  EXPECT_EQ(p24.size(), 254u);
  for (int i = 0; i < 253; ++i) {
    ASSERT_TRUE(p24.acquire("user" + std::to_string(i), t0));
  }
  EXPECT_EQ(acquire(p24, "last", t0), "10.99.0.254");  // never .255
  EXPECT_FALSE(p24.acquire("one-too-many", t0));
}

TEST(AddressPool, SameIdentitySameAddressWhileOnline) {
  const TimePoint t0{};
  AddressPool pool = make_pool("10.99.0.0/30");
  EXPECT_EQ(acquire(pool, "alice", t0), "10.99.0.1");
  EXPECT_EQ(acquire(pool, "alice", t0 + seconds(5)), "10.99.0.1");
  EXPECT_EQ(pool.online_count(), 1u);
  EXPECT_EQ(pool.lease_count(), 1u);
}

TEST(AddressPool, LeaseIsReturnedToTheSameIdentityAfterRelease) {
  const TimePoint t0{};
  AddressPool pool = make_pool("10.99.0.0/30", seconds(100));
  EXPECT_EQ(acquire(pool, "alice", t0), "10.99.0.1");
  pool.release("alice", t0 + seconds(10));
  EXPECT_EQ(pool.online_count(), 0u);
  auto leases = pool.leases();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_FALSE(leases[0].online);
  EXPECT_EQ(leases[0].identity, "alice");
  EXPECT_EQ(leases[0].expires_at, t0 + seconds(110));
  // Someone else gets the other address, not alice's reserved one.
  EXPECT_EQ(acquire(pool, "bob", t0 + seconds(20)), "10.99.0.2");
  EXPECT_FALSE(pool.acquire("carol", t0 + seconds(20)));
  // alice comes back before expiry: same address, online again, no expiry.
  EXPECT_EQ(acquire(pool, "alice", t0 + seconds(109)), "10.99.0.1");
  EXPECT_EQ(pool.online_count(), 2u);
  // Her old expiry time passes: the lease is online, so it stays.
  pool.expire(t0 + seconds(500));
  EXPECT_EQ(pool.lease_count(), 2u);
  // Releasing twice is harmless.
  pool.release("alice", t0 + seconds(600));
  pool.release("alice", t0 + seconds(650));
  pool.release("nobody", t0 + seconds(650));
  EXPECT_EQ(pool.leases()[0].expires_at, t0 + seconds(700));
}

TEST(AddressPool, ExpiredLeaseIsReused) {
  const TimePoint t0{};
  AddressPool pool = make_pool("10.99.0.0/30", seconds(100));
  EXPECT_EQ(acquire(pool, "alice", t0), "10.99.0.1");
  EXPECT_EQ(acquire(pool, "bob", t0), "10.99.0.2");
  pool.release("alice", t0);
  EXPECT_FALSE(pool.acquire("carol", t0 + seconds(99)));  // still reserved
  EXPECT_EQ(acquire(pool, "carol", t0 + seconds(100)), "10.99.0.1");
  EXPECT_EQ(pool.lease_count(), 2u);
  // alice's lease is gone; she now finds the pool full.
  EXPECT_FALSE(pool.acquire("alice", t0 + seconds(101)));
}

TEST(AddressPool, ZeroLeaseTimeFreesAtOnce) {
  const TimePoint t0{};
  AddressPool pool = make_pool("192.0.2.8/32", seconds(0));
  EXPECT_EQ(acquire(pool, "a", t0), "192.0.2.8");
  pool.release("a", t0);
  EXPECT_EQ(acquire(pool, "b", t0), "192.0.2.8");
}

TEST(AddressPool, Ipv6Slash64NeedsNoPerAddressMemory) {
  const TimePoint t0{};
  // Measure heap in use around building a /64 pool and leasing from it.
  const size_t before = mallinfo2().uordblks;
  AddressPool pool = make_pool("2001:db8:1:2::/64");
  const size_t after_build = mallinfo2().uordblks;
  EXPECT_LT(after_build - before, 4096u);
  EXPECT_EQ(pool.size(), UINT64_MAX);  // 2^64 addresses less the subnet-router anycast
  EXPECT_EQ(acquire(pool, "a", t0), "2001:db8:1:2::1");
  EXPECT_EQ(acquire(pool, "b", t0), "2001:db8:1:2::2");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(pool.acquire("user" + std::to_string(i), t0));
  }
  EXPECT_EQ(acquire(pool, "next", t0), "2001:db8:1:2::3eb");  // 1003rd address
  EXPECT_EQ(pool.online_count(), 1003u);
  // Memory is per lease (a few hundred bytes), not per address.
  EXPECT_LT(mallinfo2().uordblks - after_build, 1003u * 512u);
}

TEST(AddressPool, Ipv6LastAddressesAndExhaustion) {
  const TimePoint t0{};
  AddressPool pool = make_pool("2001:db8::/126");
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(acquire(pool, "a", t0), "2001:db8::1");
  EXPECT_EQ(acquire(pool, "b", t0), "2001:db8::2");
  EXPECT_EQ(acquire(pool, "c", t0), "2001:db8::3");
  EXPECT_FALSE(pool.acquire("d", t0));
  pool.release("b", t0);
  EXPECT_EQ(acquire(pool, "d", t0 + seconds(100)), "2001:db8::2");
}

TEST(AddressPool, LeasesAreListedInAddressOrder) {
  const TimePoint t0{};
  AddressPool pool = make_pool("10.0.0.0/29");
  acquire(pool, "z", t0);
  acquire(pool, "a", t0);
  acquire(pool, "m", t0);
  auto leases = pool.leases();
  ASSERT_EQ(leases.size(), 3u);
  EXPECT_EQ(leases[0].identity, "z");
  EXPECT_EQ(leases[1].identity, "a");
  EXPECT_EQ(leases[2].address.to_string(), "10.0.0.3");
  EXPECT_TRUE(leases[2].online);
  EXPECT_EQ(leases[2].expires_at, TimePoint::max());
}

}  // namespace
}  // namespace traverse::gateway
