// The shared segment: layout, seals, and refusal of every kind of bad fd or
// header a hostile or broken peer could hand over.
#include "dataplane/api/segment.hh"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace traverse::api {
namespace {

UniqueFd dup_fd(const Segment& s) {
  return UniqueFd(::dup(s.fd()));
}

SegmentHeader* header_of(const Segment& s) {
  return static_cast<SegmentHeader*>(s.base());
}

TEST(Segment, CreateThenAttachSeesTheSameRings) {
  Segment a;
  ASSERT_TRUE(Segment::create({8, 16, 32}, &a).ok());
  Segment b;
  const SegmentStatus s = Segment::attach(dup_fd(a), &b);
  ASSERT_TRUE(s.ok()) << segment_error_name(s.error);
  EXPECT_EQ(b.size(), a.size());
  EXPECT_EQ(b.ring_capacity(RingKind::request), 8u);
  EXPECT_EQ(b.ring_capacity(RingKind::reply), 16u);
  EXPECT_EQ(b.ring_capacity(RingKind::event), 32u);

  // A message written through one mapping is read through the other.
  RingWriter w;
  RingReader r;
  ASSERT_EQ(w.attach(a.ring_memory(RingKind::event), a.ring_size(RingKind::event)),
            RingError::none);
  ASSERT_EQ(r.attach(b.ring_memory(RingKind::event), b.ring_size(RingKind::event)),
            RingError::none);
  EXPECT_EQ(r.capacity(), 32u);
  Message m{};
  m.header.request_id = 77;
  ASSERT_EQ(w.try_push(m), RingStatus::ok);
  Message got{};
  ASSERT_EQ(r.try_pop(&got), RingStatus::ok);
  EXPECT_EQ(got.header.request_id, 77u);
}

TEST(Segment, IsSealedAgainstResizing) {
  Segment a;
  ASSERT_TRUE(Segment::create({}, &a).ok());
  EXPECT_NE(::ftruncate(a.fd(), 4096), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::ftruncate(a.fd(), static_cast<off_t>(a.size() * 2)), 0);
  EXPECT_NE(::fcntl(a.fd(), F_ADD_SEALS, F_SEAL_WRITE), 0);  // F_SEAL_SEAL
  EXPECT_EQ(::fcntl(a.fd(), F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

TEST(Segment, RejectsBadConfig) {
  Segment a;
  EXPECT_EQ(Segment::create({3, 16, 16}, &a).error, SegmentError::bad_config);
  EXPECT_EQ(Segment::create({16, 0, 16}, &a).error, SegmentError::bad_config);
  EXPECT_EQ(Segment::create({16, 16, kMaxRingCapacity * 2}, &a).error, SegmentError::bad_config);
  EXPECT_FALSE(a.valid());
}

TEST(Segment, RejectsFdsThatAreNotSealedMemfds) {
  Segment b;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[1]);
  EXPECT_EQ(Segment::attach(UniqueFd(pipe_fds[0]), &b).error, SegmentError::stat);

  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Segment::attach(UniqueFd(::dup(::fileno(f))), &b).error, SegmentError::stat);
  std::fclose(f);

  // A memfd with a perfect copy of a segment but no seals: the peer could
  // shrink it under us, so it is refused.
  Segment a;
  ASSERT_TRUE(Segment::create({}, &a).ok());
  UniqueFd plain(::memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(plain.valid());
  ASSERT_EQ(::ftruncate(plain.get(), static_cast<off_t>(a.size())), 0);
  ASSERT_EQ(::pwrite(plain.get(), a.base(), a.size(), 0), static_cast<ssize_t>(a.size()));
  EXPECT_EQ(Segment::attach(std::move(plain), &b).error, SegmentError::not_sealed);

  UniqueFd tiny(::memfd_create("tiny", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_EQ(::ftruncate(tiny.get(), 10), 0);
  ASSERT_EQ(::fcntl(tiny.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  EXPECT_EQ(Segment::attach(std::move(tiny), &b).error, SegmentError::bad_size);

  UniqueFd huge(::memfd_create("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_EQ(::ftruncate(huge.get(), static_cast<off_t>(kMaxSegmentSize + 4096)), 0);
  ASSERT_EQ(::fcntl(huge.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  EXPECT_EQ(Segment::attach(std::move(huge), &b).error, SegmentError::bad_size);
  EXPECT_FALSE(b.valid());
}

// Breaks one thing in a fresh segment's header and expects `want` on attach.
template <typename Break>
void expect_refused(Break&& mutate, SegmentError want) {
  Segment a;
  ASSERT_TRUE(Segment::create({}, &a).ok());
  mutate(a);
  Segment b;
  EXPECT_EQ(Segment::attach(dup_fd(a), &b).error, want);
  EXPECT_FALSE(b.valid());
}

TEST(Segment, RejectsBrokenHeaders) {
  expect_refused([](Segment& s) { header_of(s)->magic = 0; }, SegmentError::bad_magic);
  expect_refused([](Segment& s) { header_of(s)->version = kApiVersion + 1; },
                 SegmentError::bad_version);
  expect_refused([](Segment& s) { header_of(s)->total_size += 64; }, SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->message_size = 128; }, SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->ring_count = 2; }, SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->rings[2].offset = s.size(); },
                 SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->rings[2].offset = UINT64_MAX - 63; },
                 SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->rings[1].offset += 8; }, SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->rings[1].offset = header_of(s)->rings[0].offset; },
                 SegmentError::bad_layout);
  expect_refused(
      [](Segment& s) {
        header_of(s)->rings[2].capacity *= 2;
        header_of(s)->rings[2].bytes = ring_bytes(header_of(s)->rings[2].capacity);
      },
      SegmentError::bad_layout);
  expect_refused([](Segment& s) { header_of(s)->rings[0].capacity = 48; },
                 SegmentError::bad_layout);
  expect_refused(
      [](Segment& s) { static_cast<RingHeader*>(s.ring_memory(RingKind::reply))->magic = 0; },
      SegmentError::bad_ring);
  expect_refused(
      [](Segment& s) { static_cast<RingHeader*>(s.ring_memory(RingKind::event))->capacity = 2; },
      SegmentError::bad_ring);
}

TEST(Segment, MoveKeepsTheMapping) {
  Segment a;
  ASSERT_TRUE(Segment::create({}, &a).ok());
  void* base = a.base();
  Segment b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.base(), base);
  b.reset();
  EXPECT_FALSE(b.valid());
}

}  // namespace
}  // namespace traverse::api
