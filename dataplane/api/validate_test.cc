// validate() and validate_answer(): every good record passes; every bad field
// is refused with the right status and a detail that names the field.
#include "dataplane/api/validate.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>

#include "dataplane/api/test_messages.hh"
#include "dataplane/esp/replay_window.hh"
#include "dataplane/esp/sa_config.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::api {
namespace {

using testing::good_policy;
using testing::good_sa;
using testing::request;

// The schema restates these limits so it includes nothing from the ESP core;
// here is where the two are tied together.
static_assert(static_cast<unsigned>(esp::DfMode::copy) + 1 == kDfModeCount);
static_assert(kMaxReplayWindow == esp::ReplayWindow::kMaxSize);
static_assert(std::size(crypto::kAllTransforms) == 5);

struct Verdict {
  ReplyStatus status;
  std::string detail;
};

Verdict check(const Message& m) {
  char detail[sizeof(Reply::detail)];
  std::memset(detail, 'x', sizeof detail);
  const ReplyStatus s = validate(m, detail, sizeof detail);
  EXPECT_NE(std::memchr(detail, '\0', sizeof detail), nullptr);
  return {s, detail};
}

TEST(Validate, GoodSaForEveryTransformDirectionBackendAndFamily) {
  for (const crypto::Transform t : crypto::kAllTransforms) {
    for (const Direction d : {Direction::inbound, Direction::outbound}) {
      for (const uint8_t backend : {0, 1}) {
        for (const uint8_t family : {4, 6}) {
          for (const uint8_t flags : {0, 1, 2, 3}) {
            SaRecord sa = good_sa(static_cast<uint8_t>(t), d, family);
            sa.backend = backend;
            sa.flags = flags;
            for (const MessageType type : {MessageType::sa_add, MessageType::sa_update}) {
              const Verdict v = check(request(type, sa));
              EXPECT_EQ(v.status, ReplyStatus::ok)
                  << crypto::transform_info(t).name << " " << v.detail;
              EXPECT_EQ(v.detail, "");
            }
          }
        }
      }
    }
  }
}

TEST(Validate, GoodOtherRequests) {
  for (const auto& [name, m] : testing::seed_messages()) {
    EXPECT_EQ(check(m).status, ReplyStatus::ok) << name << ": " << check(m).detail;
  }
  SaRecord sa = good_sa(0);
  sa.path_mtu = 0;                 // the port's MTU
  sa.lifetime = {};                // unlimited
  sa.replay_window = 0;            // no replay check
  sa.first_sequence = UINT32_MAX;  // last 32-bit value
  sa.flags = 0;
  EXPECT_EQ(check(request(MessageType::sa_add, sa)).status, ReplyStatus::ok);
  sa.direction = Direction::inbound;
  sa.first_sequence = 0;  // ignored inbound
  sa.replay_window = kMaxReplayWindow;
  EXPECT_EQ(check(request(MessageType::sa_add, sa)).status, ReplyStatus::ok);
}

struct BadSa {
  const char* name;
  std::function<void(SaRecord&)> mutate;
  const char* field;  // the detail must mention it
};

TEST(Validate, EachBadSaFieldIsNamed) {
  const BadSa cases[] = {
      {"spi 0", [](SaRecord& s) { s.spi = 0; }, "sa.spi"},
      {"spi 255", [](SaRecord& s) { s.spi = 255; }, "sa.spi"},
      {"direction 2", [](SaRecord& s) { s.direction = static_cast<Direction>(2); }, "sa.direction"},
      {"transform 5", [](SaRecord& s) { s.transform = 5; }, "sa.transform"},
      {"transform 255", [](SaRecord& s) { s.transform = 255; }, "sa.transform"},
      {"backend 2", [](SaRecord& s) { s.backend = 2; }, "sa.backend"},
      {"unknown flag", [](SaRecord& s) { s.flags |= 0x80; }, "sa.flags"},
      {"cipher key short", [](SaRecord& s) { s.cipher_key_len = 15; }, "sa.cipher_key_len"},
      {"cipher key long", [](SaRecord& s) { s.cipher_key_len = 33; }, "sa.cipher_key_len"},
      {"gcm128 with 256 key", [](SaRecord& s) { s.cipher_key_len = 32; }, "sa.cipher_key_len"},
      {"salt missing", [](SaRecord& s) { s.salt_len = 0; }, "sa.salt_len"},
      {"auth key on AEAD", [](SaRecord& s) { s.auth_key_len = 32; }, "sa.auth_key_len"},
      {"df_mode 3", [](SaRecord& s) { s.df_mode = 3; }, "sa.df_mode"},
      {"local version 0", [](SaRecord& s) { s.local.version = 0; }, "sa.local.version"},
      {"local version 5", [](SaRecord& s) { s.local.version = 5; }, "sa.local.version"},
      {"remote version 0", [](SaRecord& s) { s.remote.version = 0; }, "sa.remote.version"},
      {"local prefix 33", [](SaRecord& s) { s.local.prefix_len = 33; }, "sa.local.prefix_len"},
      {"remote prefix 200", [](SaRecord& s) { s.remote.prefix_len = 200; }, "sa.remote.prefix_len"},
      {"mixed families", [](SaRecord& s) { s.remote = testing::address(6, 128, 2); },
       "sa.remote.version"},
      {"udp encap local port 0",
       [](SaRecord& s) {
         s.flags |= kSaFlagUdpEncap;
         s.local_port = 0;
       },
       "sa.local_port"},
      {"udp encap remote port 0",
       [](SaRecord& s) {
         s.flags |= kSaFlagUdpEncap;
         s.remote_port = 0;
       },
       "sa.remote_port"},
      {"replay window", [](SaRecord& s) { s.replay_window = kMaxReplayWindow + 1; },
       "sa.replay_window"},
      {"first sequence 0", [](SaRecord& s) { s.first_sequence = 0; }, "sa.first_sequence"},
      {"first sequence past 32 bits",
       [](SaRecord& s) {
         s.flags = 0;
         s.first_sequence = uint64_t{1} << 32;
       },
       "sa.first_sequence"},
      {"soft bytes over hard",
       [](SaRecord& s) { s.lifetime.soft_bytes = s.lifetime.hard_bytes + 1; }, "soft_bytes"},
      {"soft packets over hard",
       [](SaRecord& s) { s.lifetime.soft_packets = s.lifetime.hard_packets + 1; }, "soft_packets"},
      {"path mtu tiny", [](SaRecord& s) { s.path_mtu = 67; }, "sa.path_mtu"},
      {"ttl 0", [](SaRecord& s) { s.ttl = 0; }, "sa.ttl"},
  };
  for (const BadSa& c : cases) {
    for (const MessageType type : {MessageType::sa_add, MessageType::sa_update}) {
      SaRecord sa = good_sa(0);  // aes128gcm16, outbound, IPv4, ESN
      c.mutate(sa);
      const Verdict v = check(request(type, sa));
      EXPECT_EQ(v.status, ReplyStatus::bad_field) << c.name;
      EXPECT_NE(v.detail.find(c.field), std::string::npos)
          << c.name << ": detail '" << v.detail << "' does not name " << c.field;
    }
  }
}

TEST(Validate, KeyLengthsFollowTheTransform) {
  // CBC needs a 32-byte HMAC key and no salt; AEAD a 4-byte salt and no HMAC key.
  SaRecord cbc = good_sa(2);
  cbc.auth_key_len = 0;
  Verdict v = check(request(MessageType::sa_add, cbc));
  EXPECT_EQ(v.status, ReplyStatus::bad_field);
  EXPECT_NE(v.detail.find("sa.auth_key_len is 0, aes128-sha256 needs 32"), std::string::npos)
      << v.detail;
  cbc = good_sa(3);
  cbc.salt_len = 4;
  v = check(request(MessageType::sa_add, cbc));
  EXPECT_NE(v.detail.find("sa.salt_len"), std::string::npos) << v.detail;
  SaRecord chacha = good_sa(4);
  chacha.cipher_key_len = 16;
  v = check(request(MessageType::sa_add, chacha));
  EXPECT_NE(v.detail.find("chacha20poly1305 needs 32"), std::string::npos) << v.detail;
  SaRecord v6 = good_sa(1, Direction::outbound, 6);
  v6.path_mtu = 1279;
  v = check(request(MessageType::sa_add, v6));
  EXPECT_NE(v.detail.find("sa.path_mtu"), std::string::npos) << v.detail;
}

TEST(Validate, HeaderVersionTypeAndLength) {
  Message m = request(MessageType::hello);
  for (const uint16_t version :
       {uint16_t{0}, uint16_t{kApiVersion - 1}, uint16_t{kApiVersion + 1}, uint16_t{0xffff}}) {
    m.header.version = version;
    const Verdict v = check(m);
    EXPECT_EQ(v.status, ReplyStatus::bad_version);
    EXPECT_NE(v.detail.find("header.version"), std::string::npos);
  }
  // Answer types and unknown numbers are not requests.
  for (const uint16_t type : {0, 9, 63, 64, 65, 66, 67, 80, 0xffff}) {
    m = request(MessageType::hello);
    m.header.type = static_cast<MessageType>(type);
    const Verdict v = check(m);
    EXPECT_EQ(v.status, ReplyStatus::unknown_type) << type;
    EXPECT_NE(v.detail.find("header.type"), std::string::npos);
  }
  for (const auto& [name, good] : testing::seed_messages()) {
    for (const int64_t delta : {-1, 1, 1000}) {
      m = good;
      const int64_t length = int64_t{m.header.length} + delta;
      if (length < 0) {
        continue;
      }
      m.header.length = static_cast<uint32_t>(length);
      const Verdict v = check(m);
      EXPECT_EQ(v.status, ReplyStatus::bad_length) << name;
      EXPECT_NE(v.detail.find("header.length"), std::string::npos) << v.detail;
    }
  }
  m = request(MessageType::sa_add, good_sa(0));
  m.header.length = UINT32_MAX;
  EXPECT_EQ(check(m).status, ReplyStatus::bad_length);
}

TEST(Validate, SaRefPolicyAndCountersQuery) {
  Verdict v = check(request(MessageType::sa_delete, SaRef{12, Direction::inbound}));
  EXPECT_EQ(v.status, ReplyStatus::bad_field);
  EXPECT_NE(v.detail.find("sa_ref.spi"), std::string::npos);
  v = check(request(MessageType::sa_delete, SaRef{4096, static_cast<Direction>(7)}));
  EXPECT_NE(v.detail.find("sa_ref.direction"), std::string::npos);

  PolicyRecord p = good_policy(4);
  p.selector.prefix_len = 33;
  v = check(request(MessageType::policy_add, p));
  EXPECT_EQ(v.status, ReplyStatus::bad_field);
  EXPECT_NE(v.detail.find("policy.selector.prefix_len"), std::string::npos);
  p = good_policy(6);
  p.selector.prefix_len = 128;
  EXPECT_EQ(check(request(MessageType::policy_delete, p)).status, ReplyStatus::ok);
  p.selector.prefix_len = 129;
  EXPECT_EQ(check(request(MessageType::policy_delete, p)).status, ReplyStatus::bad_field);
  p = good_policy(4);
  p.selector.version = 0;
  v = check(request(MessageType::policy_add, p));
  EXPECT_NE(v.detail.find("policy.selector.version"), std::string::npos);
  p = good_policy(4);
  p.spi = 1;
  v = check(request(MessageType::policy_add, p));
  EXPECT_NE(v.detail.find("policy.spi"), std::string::npos);

  CountersQuery q{};
  q.scope = 2;
  v = check(request(MessageType::counters_get, q));
  EXPECT_EQ(v.status, ReplyStatus::bad_field);
  EXPECT_NE(v.detail.find("counters_query.scope"), std::string::npos);
  q.scope = kCountersScopeSa;
  q.sa = SaRef{5, Direction::inbound};
  v = check(request(MessageType::counters_get, q));
  EXPECT_NE(v.detail.find("counters_query.sa.spi"), std::string::npos);
  q.scope = kCountersScopeGlobal;  // the SA is ignored for the global scope
  EXPECT_EQ(check(request(MessageType::counters_get, q)).status, ReplyStatus::ok);
}

TEST(Validate, DetailBufferOfAnySize) {
  SaRecord sa = good_sa(0);
  sa.ttl = 0;
  const Message m = request(MessageType::sa_add, sa);
  EXPECT_EQ(validate(m, nullptr, 0), ReplyStatus::bad_field);
  char one[1] = {'x'};
  EXPECT_EQ(validate(m, one, sizeof one), ReplyStatus::bad_field);
  EXPECT_EQ(one[0], '\0');
  char small[6];
  EXPECT_EQ(validate(m, small, sizeof small), ReplyStatus::bad_field);
  EXPECT_STREQ(small, "sa.tt");
}

Message answer(MessageType type, const void* body, std::size_t size) {
  Message m = request(type, body, size);
  m.header.request_id = 9;
  return m;
}

TEST(ValidateAnswer, RepliesPagesAndEvents) {
  char detail[96];
  Reply r{};
  r.status = ReplyStatus::exists;
  std::strcpy(r.detail, "spi 4096 exists");
  EXPECT_EQ(validate_answer(answer(MessageType::reply, &r, sizeof r), detail, sizeof detail),
            ReplyStatus::ok);
  std::memset(r.detail, 'a', sizeof r.detail);
  EXPECT_EQ(validate_answer(answer(MessageType::reply, &r, sizeof r), detail, sizeof detail),
            ReplyStatus::bad_field);
  EXPECT_NE(std::strstr(detail, "reply.detail"), nullptr);
  r = {};
  r.status = static_cast<ReplyStatus>(kReplyStatusCount);
  EXPECT_EQ(validate_answer(answer(MessageType::reply, &r, sizeof r), detail, sizeof detail),
            ReplyStatus::bad_field);

  CountersPage page{};
  page.count = kCountersPerPage + 1;
  EXPECT_EQ(validate_answer(answer(MessageType::counters_reply, &page, sizeof page), detail,
                            sizeof detail),
            ReplyStatus::bad_field);
  page.count = 1;
  std::memset(page.counters[0].name, 'n', sizeof page.counters[0].name);
  EXPECT_EQ(validate_answer(answer(MessageType::counters_reply, &page, sizeof page), detail,
                            sizeof detail),
            ReplyStatus::bad_field);
  page.counters[0].name[5] = '\0';
  EXPECT_EQ(validate_answer(answer(MessageType::counters_reply, &page, sizeof page), detail,
                            sizeof detail),
            ReplyStatus::ok);

  SaListPage list{};
  list.count = kSasPerListPage + 1;
  EXPECT_EQ(validate_answer(answer(MessageType::sa_list_reply, &list, sizeof list), detail,
                            sizeof detail),
            ReplyStatus::bad_field);

  Event e{};
  e.type = EventType::path_mtu_changed;
  EXPECT_EQ(validate_answer(answer(MessageType::event, &e, sizeof e), detail, sizeof detail),
            ReplyStatus::ok);
  e.type = static_cast<EventType>(99);
  EXPECT_EQ(validate_answer(answer(MessageType::event, &e, sizeof e), detail, sizeof detail),
            ReplyStatus::bad_field);

  // Requests are not answers.
  EXPECT_EQ(validate_answer(request(MessageType::hello), detail, sizeof detail),
            ReplyStatus::unknown_type);
  Message wrong = answer(MessageType::reply, &r, sizeof r);
  wrong.header.length = 4;
  EXPECT_EQ(validate_answer(wrong, detail, sizeof detail), ReplyStatus::bad_length);
}

TEST(Validate, Names) {
  EXPECT_STREQ(message_type_name(MessageType::sa_add), "sa_add");
  EXPECT_STREQ(message_type_name(static_cast<MessageType>(999)), "unknown");
  EXPECT_STREQ(reply_status_name(ReplyStatus::bad_field), "bad_field");
  EXPECT_STREQ(reply_status_name(static_cast<ReplyStatus>(kReplyStatusCount)), "unknown_status");
  EXPECT_STREQ(reply_status_name(ReplyStatus::internal), "internal");
  static_assert(static_cast<std::size_t>(ReplyStatus::internal) + 1 == kReplyStatusCount);
}

}  // namespace
}  // namespace traverse::api
