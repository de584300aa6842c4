// RFC 7383 reassembly rules, the splitter and the fragment size arithmetic.
#include "control/ike/message/fragments.hh"

#include <gtest/gtest.h>

#include "control/ike/message/builder.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/message/test_messages.hh"

namespace traverse::ike {
namespace {

using Status = FragmentResult::Status;
using std::chrono::seconds;

const FragmentReassembler::Clock::time_point t0 =
    FragmentReassembler::Clock::time_point{} + std::chrono::hours(1);

Bytes bytes_of(std::initializer_list<uint8_t> values) {
  return Bytes(values);
}

TEST(Reassembler, InOrder) {
  FragmentReassembler r;
  EXPECT_EQ(r.add(5, 1, 3, PayloadType::idi, bytes_of({1, 2}), t0).status, Status::incomplete);
  EXPECT_EQ(r.add(5, 2, 3, PayloadType::none, bytes_of({3}), t0).status, Status::incomplete);
  EXPECT_EQ(r.bytes_held(), 3u);
  const auto done = r.add(5, 3, 3, PayloadType::none, bytes_of({4, 5}), t0);
  ASSERT_EQ(done.status, Status::complete);
  EXPECT_EQ(done.content, bytes_of({1, 2, 3, 4, 5}));
  EXPECT_EQ(done.first_inner, PayloadType::idi);
  EXPECT_EQ(done.message_id, 5u);
  EXPECT_FALSE(r.collecting());
  EXPECT_EQ(r.counters().completed, 1u);
  EXPECT_EQ(r.counters().accepted, 3u);
}

TEST(Reassembler, OutOfOrderAndDuplicates) {
  FragmentReassembler r;
  EXPECT_EQ(r.add(1, 3, 3, PayloadType::none, bytes_of({7}), t0).status, Status::incomplete);
  EXPECT_EQ(r.add(1, 3, 3, PayloadType::none, bytes_of({9, 9}), t0).status, Status::incomplete);
  EXPECT_EQ(r.add(1, 1, 3, PayloadType::sa, bytes_of({5}), t0).status, Status::incomplete);
  EXPECT_EQ(r.add(1, 1, 3, PayloadType::sa, bytes_of({5}), t0).status, Status::incomplete);
  const auto done = r.add(1, 2, 3, PayloadType::none, bytes_of({6}), t0);
  ASSERT_EQ(done.status, Status::complete);
  EXPECT_EQ(done.content, bytes_of({5, 6, 7}));  // the first copy of a duplicate wins
  EXPECT_EQ(done.first_inner, PayloadType::sa);
  EXPECT_EQ(r.counters().duplicates, 2u);
}

TEST(Reassembler, LyingNumbersAndTotals) {
  FragmentReassembler r;
  auto rejected = [](const FragmentResult& result, FragmentRejection reason) {
    return result.status == Status::rejected && result.reason == reason;
  };
  EXPECT_TRUE(rejected(r.add(1, 0, 3, PayloadType::none, {}, t0), FragmentRejection::bad_number));
  EXPECT_TRUE(rejected(r.add(1, 4, 3, PayloadType::none, {}, t0), FragmentRejection::bad_number));
  EXPECT_TRUE(rejected(r.add(1, 1, 0, PayloadType::none, {}, t0), FragmentRejection::bad_number));
  EXPECT_TRUE(
      rejected(r.add(1, 1, 65, PayloadType::none, {}, t0), FragmentRejection::too_many_fragments));
  EXPECT_FALSE(r.collecting());

  // A different total within a message drops what was collected.
  EXPECT_EQ(r.add(1, 1, 3, PayloadType::sa, bytes_of({1}), t0).status, Status::incomplete);
  EXPECT_TRUE(rejected(r.add(1, 2, 4, PayloadType::none, bytes_of({2}), t0),
                       FragmentRejection::total_changed));
  EXPECT_FALSE(r.collecting());
  EXPECT_EQ(r.counters().bad_number, 3u);
  EXPECT_EQ(r.counters().too_many_fragments, 1u);
  EXPECT_EQ(r.counters().total_changed, 1u);
}

TEST(Reassembler, NewerMessageIdDiscardsOlderSet) {
  FragmentReassembler r;
  r.add(7, 1, 2, PayloadType::sa, bytes_of({1}), t0);
  EXPECT_EQ(r.add(8, 2, 2, PayloadType::none, bytes_of({4}), t0).status, Status::incomplete);
  EXPECT_EQ(r.counters().superseded, 1u);
  // Fragments of the older message are now ignored.
  const auto old = r.add(7, 2, 2, PayloadType::none, bytes_of({2}), t0);
  EXPECT_EQ(old.status, Status::rejected);
  EXPECT_EQ(old.reason, FragmentRejection::stale_message_id);
  const auto done = r.add(8, 1, 2, PayloadType::ke, bytes_of({3}), t0);
  ASSERT_EQ(done.status, Status::complete);
  EXPECT_EQ(done.content, bytes_of({3, 4}));
  // A retransmitted fragment of the completed message is reported as such, so
  // the responder can resend its answer; older ids stay stale.
  EXPECT_EQ(r.add(8, 1, 2, PayloadType::ke, bytes_of({3}), t0).reason,
            FragmentRejection::already_completed);
  EXPECT_EQ(r.add(6, 1, 2, PayloadType::ke, bytes_of({3}), t0).reason,
            FragmentRejection::stale_message_id);
  EXPECT_EQ(r.add(9, 1, 1, PayloadType::ke, bytes_of({3}), t0).status, Status::complete);
}

TEST(Reassembler, ByteBound) {
  ReassemblyLimits limits;
  limits.max_bytes = 10;
  FragmentReassembler r(limits);
  EXPECT_EQ(r.add(1, 1, 3, PayloadType::sa, Bytes(6, 1), t0).status, Status::incomplete);
  const auto over = r.add(1, 2, 3, PayloadType::none, Bytes(5, 2), t0);
  EXPECT_EQ(over.status, Status::rejected);
  EXPECT_EQ(over.reason, FragmentRejection::too_many_bytes);
  EXPECT_FALSE(r.collecting());
  EXPECT_EQ(r.bytes_held(), 0u);
  // Exactly at the bound is fine.
  r.add(2, 1, 2, PayloadType::sa, Bytes(6, 1), t0);
  EXPECT_EQ(r.add(2, 2, 2, PayloadType::none, Bytes(4, 2), t0).status, Status::complete);
}

TEST(Reassembler, Timeout) {
  ReassemblyLimits limits;
  limits.timeout = seconds(5);
  FragmentReassembler r(limits);
  r.add(1, 1, 2, PayloadType::sa, bytes_of({1}), t0);
  r.expire(t0 + seconds(4));
  EXPECT_TRUE(r.collecting());
  r.expire(t0 + seconds(5));
  EXPECT_FALSE(r.collecting());
  EXPECT_EQ(r.counters().expired, 1u);
  // A late fragment starts over rather than completing with stale data.
  EXPECT_EQ(r.add(1, 2, 2, PayloadType::none, bytes_of({2}), t0 + seconds(6)).status,
            Status::incomplete);
  // add() expires on its own as well.
  EXPECT_EQ(r.add(1, 1, 2, PayloadType::sa, bytes_of({1}), t0 + seconds(20)).status,
            Status::incomplete);
  EXPECT_EQ(r.counters().expired, 2u);
}

TEST(Splitter, PiecesCoverTheInput) {
  const Bytes inner = testing::pattern(1000, 9);
  const auto pieces = split_into_fragments(inner, 300);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[3].size(), 100u);
  Bytes joined;
  for (ByteView p : pieces) {
    joined.insert(joined.end(), p.begin(), p.end());
  }
  EXPECT_EQ(joined, inner);
  EXPECT_TRUE(split_into_fragments(inner, 0).empty());
  EXPECT_EQ(split_into_fragments({}, 100).size(), 1u);
  EXPECT_EQ(split_into_fragments(inner, 1000).size(), 1u);
  EXPECT_EQ(split_into_fragments(inner, 999).size(), 2u);
}

// RFC 7383 2.5.1 arithmetic, worked by hand:
// IPv4 576, marker, AES-CBC: 576 - (20+8+4+28+8+16+16) = 476 -> 464 in blocks -> 463.
// IPv6 1280, GCM (IV 8, ICV 16, no block): 1280 - (40+8+28+8+8+16) = 1172 -> 1171.
TEST(FragmentSizing, Capacity) {
  EXPECT_EQ(fragment_content_capacity({576, false, true, 16, 16, 16}), 463u);
  EXPECT_EQ(fragment_content_capacity({1280, true, false, 8, 16, 1}), 1171u);
  EXPECT_EQ(fragment_content_capacity({100, true, false, 16, 16, 16}), 0u);
}

// Split, wrap each piece in an SKF prefix at the capacity, and check every
// datagram fits and the pieces reassemble to the original chain.
TEST(FragmentSizing, EndToEndFitsAndReassembles) {
  const FragmentSizing sizing{576, false, true, 16, 16, 16};
  const std::size_t capacity = fragment_content_capacity(sizing);
  PayloadType first = PayloadType::none;
  const Bytes inner = serialize_payload_chain(testing::sample_payloads(), &first);
  const auto pieces = split_into_fragments(inner, capacity);
  ASSERT_GT(pieces.size(), 1u);
  FragmentReassembler r;
  FragmentResult last;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::size_t padded = (pieces[i].size() + 1 + 15) / 16 * 16;  // content+pad+padlen
    const std::size_t body = sizing.iv_size + padded + sizing.icv_size;
    const auto number = static_cast<uint16_t>(i + 1);
    const auto total = static_cast<uint16_t>(pieces.size());
    const Bytes prefix = build_skf_prefix(Header{}, first, number, total, body);
    EXPECT_LE(20 + 8 + 4 + prefix.size() + body, sizing.max_datagram);
    last = r.add(3, number, total, i == 0 ? first : PayloadType::none, pieces[i], t0);
  }
  ASSERT_EQ(last.status, Status::complete);
  auto parsed = parse_payload_chain(last.first_inner, last.content);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed.value(), testing::sample_payloads());
}

}  // namespace
}  // namespace traverse::ike
