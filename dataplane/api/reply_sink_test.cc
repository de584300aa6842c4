// ReplySink: exactly one final answer per request, whatever the handler does.
#include "dataplane/api/reply_sink.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace traverse::api {
namespace {

MessageHeader header(MessageType type, uint64_t id) {
  MessageHeader h{};
  h.version = kApiVersion;
  h.type = type;
  h.request_id = id;
  return h;
}

TEST(ReplySink, OneReplyEchoesTheRequestId) {
  ReplySink sink;
  sink.begin(header(MessageType::sa_add, 41));
  sink.reply(ReplyStatus::ok, 7, "installed");
  EXPECT_TRUE(sink.finish());
  ASSERT_EQ(sink.messages().size(), 1u);
  const Message& m = sink.messages()[0];
  EXPECT_EQ(m.header.version, kApiVersion);
  EXPECT_EQ(m.header.type, MessageType::reply);
  EXPECT_EQ(m.header.length, sizeof(Reply));
  EXPECT_EQ(m.header.request_id, 41u);
  EXPECT_EQ(m.body.reply.value, 7u);
  EXPECT_STREQ(m.body.reply.detail, "installed");
  // Nothing but the reply is set: no stale bytes cross to the client.
  for (std::size_t i = sizeof(Reply); i < sizeof m.body.raw; ++i) {
    ASSERT_EQ(m.body.raw[i], 0) << i;
  }
}

TEST(ReplySink, NoAnswerBecomesInternalError) {
  ReplySink sink;
  sink.begin(header(MessageType::hello, 1));
  EXPECT_FALSE(sink.finish());
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].body.reply.status, ReplyStatus::internal);
  EXPECT_EQ(sink.messages()[0].header.request_id, 1u);
}

TEST(ReplySink, SecondAnswerAndWrongKindsAreDropped) {
  ReplySink sink;
  sink.begin(header(MessageType::sa_delete, 2));
  sink.sa_list_page(SaListPage{});  // not an sa_list request
  sink.counters_page(CountersPage{});
  sink.reply(ReplyStatus::unknown_sa, 0, "no such SA");
  sink.reply(ReplyStatus::ok);
  EXPECT_FALSE(sink.finish());
  EXPECT_EQ(sink.misuse(), 3u);
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].body.reply.status, ReplyStatus::unknown_sa);
}

TEST(ReplySink, CounterPagesEndWithMoreZero) {
  ReplySink sink;
  sink.begin(header(MessageType::counters_get, 3));
  CountersPage page{};
  page.count = kCountersPerPage;
  page.more = 1;
  std::memset(page.counters[0].name, 'z', sizeof page.counters[0].name);  // unterminated
  sink.counters_page(page);
  EXPECT_FALSE(sink.final_sent());
  page.more = 0;
  page.count = 1;
  sink.counters_page(page);
  EXPECT_TRUE(sink.final_sent());
  EXPECT_TRUE(sink.finish());
  ASSERT_EQ(sink.messages().size(), 2u);
  EXPECT_EQ(sink.messages()[0].header.type, MessageType::counters_reply);
  EXPECT_EQ(sink.messages()[0].body.counters_page.counters[0].name[39], '\0');

  page.count = kCountersPerPage + 1;  // malformed page
  sink.begin(header(MessageType::counters_get, 4));
  sink.counters_page(page);
  EXPECT_FALSE(sink.finish());
  EXPECT_EQ(sink.messages().back().body.reply.status, ReplyStatus::internal);
}

TEST(ReplySink, DetailIsTruncatedAndTerminated) {
  ReplySink sink;
  sink.begin(header(MessageType::sa_add, 5));
  sink.reply(ReplyStatus::bad_field, 0, std::string(500, 'd'));
  const Reply& r = sink.messages()[0].body.reply;
  EXPECT_EQ(std::strlen(r.detail), sizeof r.detail - 1);
}

TEST(ReplySink, TypedFinalAnswers) {
  ReplySink sink;
  sink.begin(header(MessageType::counters_get, 6));
  SaCounters c{};
  c.packets = 10;
  sink.sa_counters(c);
  EXPECT_TRUE(sink.finish());
  EXPECT_EQ(sink.messages()[0].header.type, MessageType::sa_counters_reply);
  EXPECT_EQ(sink.messages()[0].header.length, sizeof(SaCounters));

  sink.begin(header(MessageType::sa_list, 7));
  SaListPage page{};
  page.count = 2;
  sink.sa_list_page(page);
  EXPECT_TRUE(sink.finish());
  EXPECT_EQ(sink.messages()[0].header.type, MessageType::sa_list_reply);
}

}  // namespace
}  // namespace traverse::api
