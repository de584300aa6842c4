// The SPSC ring in one process: order, wraparound, two threads, and a hostile
// peer that writes garbage into the shared header. Ring memory is an exact-size
// heap block, so under ASan any access outside the ring fails the test.
#include "dataplane/api/ring.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

namespace traverse::api {
namespace {

struct RingMemory {
  explicit RingMemory(uint32_t capacity) : bytes(ring_bytes(capacity)) {
    memory = std::aligned_alloc(kCacheLine, bytes);
  }
  ~RingMemory() { std::free(memory); }
  RingMemory(const RingMemory&) = delete;
  RingMemory& operator=(const RingMemory&) = delete;
  RingHeader* header() const { return static_cast<RingHeader*>(memory); }
  std::size_t bytes;
  void* memory;
};

Message numbered(uint64_t n) {
  Message m;
  std::memset(&m, 0, sizeof m);
  m.header.version = kApiVersion;
  m.header.type = MessageType::event;
  m.header.request_id = n;
  // A pattern over the whole body: a torn or misplaced slot shows up.
  for (std::size_t i = 0; i < sizeof m.body.raw; ++i) {
    m.body.raw[i] = static_cast<uint8_t>(n * 31 + i);
  }
  return m;
}

bool intact(const Message& m, uint64_t n) {
  if (m.header.request_id != n) {
    return false;
  }
  for (std::size_t i = 0; i < sizeof m.body.raw; ++i) {
    if (m.body.raw[i] != static_cast<uint8_t>(n * 31 + i)) {
      return false;
    }
  }
  return true;
}

TEST(Ring, PushUntilFullThenPopInOrder) {
  RingMemory mem(8);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 8), RingError::none);
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  EXPECT_EQ(w.capacity(), 8u);
  Message out;
  EXPECT_EQ(r.try_pop(&out), RingStatus::empty);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(w.try_push(numbered(i)), RingStatus::ok);
  }
  EXPECT_EQ(w.try_push(numbered(8)), RingStatus::full);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(r.try_pop(&out), RingStatus::ok);
    EXPECT_TRUE(intact(out, i));
  }
  EXPECT_EQ(r.try_pop(&out), RingStatus::empty);
}

TEST(Ring, WrapsAroundManyTimes) {
  RingMemory mem(4);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 4), RingError::none);
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  uint64_t sent = 0;
  uint64_t received = 0;
  Message out;
  for (int round = 0; round < 10000; ++round) {
    const int burst = 1 + round % 4;
    for (int i = 0; i < burst; ++i) {
      ASSERT_EQ(w.try_push(numbered(sent)), RingStatus::ok);
      ++sent;
    }
    for (int i = 0; i < burst; ++i) {
      ASSERT_EQ(r.try_pop(&out), RingStatus::ok);
      ASSERT_TRUE(intact(out, received));
      ++received;
    }
  }
  EXPECT_EQ(r.try_pop(&out), RingStatus::empty);
}

TEST(Ring, IndicesWrapPast32Bits) {
  RingMemory mem(4);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 4), RingError::none);
  mem.header()->head.store(UINT32_MAX - 2);
  mem.header()->tail.store(UINT32_MAX - 2);
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  Message out;
  for (uint64_t i = 0; i < 20; ++i) {
    ASSERT_EQ(w.try_push(numbered(i)), RingStatus::ok);
    ASSERT_EQ(r.try_pop(&out), RingStatus::ok);
    ASSERT_TRUE(intact(out, i));
  }
}

TEST(Ring, TwoThreadsKeepOrderAndContents) {
  constexpr uint64_t kMessages = 1'500'000;
  RingMemory mem(256);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 256), RingError::none);
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  std::thread producer([&w] {
    for (uint64_t i = 0; i < kMessages;) {
      const RingStatus s = w.try_push(numbered(i));
      if (s == RingStatus::ok) {
        ++i;
      } else if (s == RingStatus::full) {
        std::this_thread::yield();
      } else {
        return;
      }
    }
  });
  uint64_t received = 0;
  uint64_t damaged = 0;
  Message out;
  while (received < kMessages) {
    const RingStatus s = r.try_pop(&out);
    if (s == RingStatus::ok) {
      damaged += intact(out, received) ? 0 : 1;
      ++received;
    } else if (s == RingStatus::empty) {
      std::this_thread::yield();
    } else {
      break;
    }
  }
  producer.join();
  EXPECT_EQ(received, kMessages);
  EXPECT_EQ(damaged, 0u);
  EXPECT_FALSE(w.corrupt());
  EXPECT_FALSE(r.corrupt());
}

TEST(Ring, AttachRejectsGarbageHeaders) {
  RingMemory mem(8);
  RingWriter w;
  RingReader r;
  auto reformat = [&] { ASSERT_EQ(format_ring(mem.memory, mem.bytes, 8), RingError::none); };

  reformat();
  mem.header()->magic ^= 1;
  EXPECT_EQ(r.attach(mem.memory, mem.bytes), RingError::bad_magic);
  EXPECT_EQ(w.attach(mem.memory, mem.bytes), RingError::bad_magic);
  EXPECT_FALSE(r.attached());

  for (uint32_t bad : {0u, 3u, 12u, kMaxRingCapacity * 2, UINT32_MAX}) {
    reformat();
    mem.header()->capacity = bad;
    EXPECT_EQ(r.attach(mem.memory, mem.bytes), RingError::bad_capacity) << bad;
  }
  reformat();
  mem.header()->capacity = 16;  // claims more slots than the memory holds
  EXPECT_EQ(r.attach(mem.memory, mem.bytes), RingError::too_small);
  EXPECT_EQ(w.attach(mem.memory, mem.bytes), RingError::too_small);

  reformat();
  mem.header()->slot_size = 128;
  EXPECT_EQ(r.attach(mem.memory, mem.bytes), RingError::bad_slot_size);

  reformat();
  mem.header()->tail.store(9);  // nine in a ring of eight
  EXPECT_EQ(r.attach(mem.memory, mem.bytes), RingError::bad_indices);
  mem.header()->tail.store(0);
  mem.header()->head.store(1);  // head ahead of tail
  EXPECT_EQ(w.attach(mem.memory, mem.bytes), RingError::bad_indices);

  reformat();
  EXPECT_EQ(r.attach(mem.memory, sizeof(RingHeader) - 1), RingError::too_small);
  EXPECT_EQ(r.attach(nullptr, mem.bytes), RingError::too_small);
  EXPECT_EQ(r.attach(static_cast<char*>(mem.memory) + 8, mem.bytes - 8), RingError::misaligned);
  EXPECT_EQ(format_ring(mem.memory, mem.bytes, 6), RingError::bad_capacity);
  EXPECT_EQ(format_ring(mem.memory, mem.bytes, 16), RingError::too_small);
}

TEST(Ring, DetachedRingSaysSo) {
  RingWriter w;
  RingReader r;
  Message m{};
  EXPECT_EQ(w.try_push(m), RingStatus::detached);
  EXPECT_EQ(r.try_pop(&m), RingStatus::detached);
}

TEST(Ring, ReaderReportsImpossibleTailAndStaysCorrupt) {
  RingMemory mem(8);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 8), RingError::none);
  RingReader r;
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  Message out;
  mem.header()->tail.store(1000);  // the producer claims 1000 messages in 8 slots
  EXPECT_EQ(r.try_pop(&out), RingStatus::corrupt);
  EXPECT_TRUE(r.corrupt());
  mem.header()->tail.store(1);  // even a sane value later does not revive it
  EXPECT_EQ(r.try_pop(&out), RingStatus::corrupt);

  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 8), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  mem.header()->tail.store(UINT32_MAX);  // tail behind head
  EXPECT_EQ(r.try_pop(&out), RingStatus::corrupt);
}

TEST(Ring, WriterReportsImpossibleHead) {
  RingMemory mem(8);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 8), RingError::none);
  RingWriter w;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(w.try_push(numbered(i)), RingStatus::ok);
  }
  mem.header()->head.store(20);  // the consumer read more than was written
  EXPECT_EQ(w.try_push(numbered(8)), RingStatus::corrupt);
  EXPECT_TRUE(w.corrupt());
  EXPECT_EQ(w.try_push(numbered(8)), RingStatus::corrupt);
}

TEST(Ring, HeaderRewrittenAfterAttachIsIgnored) {
  // The capacity is taken once; a peer raising it later cannot widen our mask.
  RingMemory mem(4);
  ASSERT_EQ(format_ring(mem.memory, mem.bytes, 4), RingError::none);
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
  ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
  mem.header()->capacity = kMaxRingCapacity;
  mem.header()->magic = 0;
  Message out;
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(w.try_push(numbered(i)), RingStatus::ok);
    ASSERT_EQ(r.try_pop(&out), RingStatus::ok);
    ASSERT_TRUE(intact(out, i));
  }
  EXPECT_EQ(w.capacity(), 4u);
}

TEST(Ring, RandomIndexGarbageNeverLeavesTheRing) {
  // A hostile peer scribbles on head and tail between our operations. Every
  // outcome must be a status; ASan proves no access strays outside the block.
  RingMemory mem(16);
  std::mt19937 rng(12345);
  uint64_t corrupt_seen = 0;
  uint64_t ok_seen = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    ASSERT_EQ(format_ring(mem.memory, mem.bytes, 16), RingError::none);
    RingWriter w;
    RingReader r;
    ASSERT_EQ(w.attach(mem.memory, mem.bytes), RingError::none);
    ASSERT_EQ(r.attach(mem.memory, mem.bytes), RingError::none);
    Message out;
    for (int step = 0; step < 64; ++step) {
      switch (rng() % 4) {
        case 0:
          mem.header()->head.store(static_cast<uint32_t>(rng()));
          break;
        case 1:
          mem.header()->tail.store(static_cast<uint32_t>(rng() % 64));
          break;
        default:
          break;
      }
      const RingStatus ps = w.try_push(numbered(static_cast<uint64_t>(step)));
      const RingStatus rs = r.try_pop(&out);
      ASSERT_TRUE(ps == RingStatus::ok || ps == RingStatus::full || ps == RingStatus::corrupt);
      ASSERT_TRUE(rs == RingStatus::ok || rs == RingStatus::empty || rs == RingStatus::corrupt);
      corrupt_seen += (ps == RingStatus::corrupt) + (rs == RingStatus::corrupt);
      ok_seen += (ps == RingStatus::ok) + (rs == RingStatus::ok);
    }
  }
  EXPECT_GT(corrupt_seen, 0u);
  EXPECT_GT(ok_seen, 0u);
}

TEST(Ring, StatusAndErrorNames) {
  EXPECT_STREQ(ring_status_name(RingStatus::corrupt), "corrupt");
  EXPECT_NE(std::strstr(ring_error_name(RingError::bad_magic), "magic"), nullptr);
}

}  // namespace
}  // namespace traverse::api
