// ApiServer and ApiClient over a real unix socket in a temporary directory,
// with a fake handler that records what reached it: good requests get the
// handler's answer, bad ones an error without reaching it; clients that die,
// crowd in, lack permission or corrupt their rings leave the server serving.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/api/client.hh"
#include "dataplane/api/handshake.hh"
#include "dataplane/api/server.hh"
#include "dataplane/api/test_messages.hh"

namespace traverse::api {
namespace {

using namespace std::chrono_literals;
using testing::good_policy;
using testing::good_sa;
using testing::request;

// A dataplane stand-in: a table of SAs, a list of counters, and switches
// that make it misbehave.
class FakeHandler : public Handler {
 public:
  enum class Mode { normal, silent, twice, throws };

  void on_request(const Message& m, ReplySink& out) override {
    std::lock_guard lock(mu);
    received.push_back(m);
    if (mode == Mode::silent) {
      return;
    }
    if (mode == Mode::throws) {
      throw std::runtime_error("fake failure");
    }
    switch (m.header.type) {
      case MessageType::hello:
        out.reply(ReplyStatus::ok, 1000, "fake dataplane");
        break;
      case MessageType::sa_add:
        for (const SaRef& r : installed) {
          if (r.spi == m.body.sa.spi && r.direction == m.body.sa.direction) {
            out.reply(ReplyStatus::exists, 0, "SA exists");
            return;
          }
        }
        installed.push_back(SaRef{m.body.sa.spi, m.body.sa.direction});
        out.reply(ReplyStatus::ok, static_cast<uint32_t>(installed.size() - 1));
        break;
      case MessageType::sa_delete:
        for (auto it = installed.begin(); it != installed.end(); ++it) {
          if (it->spi == m.body.sa_ref.spi && it->direction == m.body.sa_ref.direction) {
            installed.erase(it);
            out.reply(ReplyStatus::ok);
            return;
          }
        }
        out.reply(ReplyStatus::unknown_sa, 0, "no such SA");
        break;
      case MessageType::counters_get:
        answer_counters(m.body.counters_query, out);
        break;
      case MessageType::sa_list:
        answer_list(m.body.list_query.start_index, out);
        break;
      default:
        out.reply(ReplyStatus::ok);
        break;
    }
    if (mode == Mode::twice) {
      out.reply(ReplyStatus::internal, 0, "second answer");
    }
  }
  void on_client_connected() override { ++connected; }
  void on_client_disconnected() override { ++disconnected; }

  std::size_t count() {
    std::lock_guard lock(mu);
    return received.size();
  }

  std::mutex mu;
  std::vector<Message> received;
  std::vector<SaRef> installed;
  std::size_t counter_count = 10;
  std::atomic<Mode> mode{Mode::normal};  // flipped by the test thread
  std::atomic<int> connected{0};
  std::atomic<int> disconnected{0};

 private:
  void answer_counters(const CountersQuery& q, ReplySink& out) {
    if (q.scope == kCountersScopeSa) {
      SaCounters c{};
      c.sa = q.sa;
      c.packets = q.sa.spi;
      out.sa_counters(c);
      return;
    }
    for (std::size_t i = 0; i < counter_count || i == 0; i += kCountersPerPage) {
      CountersPage page{};
      for (std::size_t j = i; j < counter_count && j < i + kCountersPerPage; ++j) {
        NamedCounter& c = page.counters[page.count++];
        std::snprintf(c.name, sizeof c.name, "counter_%zu", j);
        c.value = j * 10;
      }
      page.more = i + kCountersPerPage < counter_count ? 1 : 0;
      out.counters_page(page);
    }
  }

  void answer_list(uint32_t start, ReplySink& out) {
    SaListPage page{};
    std::size_t i = start;
    for (; i < installed.size() && page.count < kSasPerListPage; ++i) {
      page.sas[page.count++] = installed[i];
    }
    page.more = i < installed.size() ? 1 : 0;
    page.next_index = static_cast<uint32_t>(i);
    out.sa_list_page(page);
  }
};

// Runs poll() on its own thread, sleeping briefly when idle, as the
// dataplane's control thread would.
class ServerLoop {
 public:
  ServerLoop(ApiServer& server, Handler& handler) : server_(server), handler_(handler) {}
  ~ServerLoop() { stop(); }
  void start() {
    stop_ = false;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (server_.poll(handler_) == 0) {
          std::this_thread::sleep_for(50us);
        }
      }
    });
  }
  void stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
  }

 private:
  ApiServer& server_;
  Handler& handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/traverse-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/dataplane/api.sock";  // directories created by the server
  }
  void TearDown() override {
    loop_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ServerConfig config() {
    ServerConfig c;
    c.socket_path = path_;
    c.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      logs_.emplace_back(line);
    };
    return c;
  }
  void start_server(ServerConfig c) {
    server_ = std::make_unique<ApiServer>(std::move(c));
    ASSERT_EQ(server_->start(), "");
    loop_ = std::make_unique<ServerLoop>(*server_, handler_);
    loop_->start();
  }
  void start_server() { start_server(config()); }
  void connect(ApiClient& client) { ASSERT_EQ(client.connect(path_, 2s), ""); }
  bool logged(const std::string& needle) {
    std::lock_guard lock(log_mu_);
    for (const std::string& l : logs_) {
      if (l.find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  // Polls on this thread until `done` or a few seconds pass.
  template <typename F>
  bool poll_until(F&& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      if (server_->poll(handler_) == 0) {
        std::this_thread::sleep_for(100us);
      }
    }
    return true;
  }

  std::string dir_;
  std::string path_;
  FakeHandler handler_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<ServerLoop> loop_;
  std::mutex log_mu_;
  std::vector<std::string> logs_;
};

TEST_F(ApiTest, SocketIsOwnerOnlyInAPrivateDirectory) {
  start_server();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/run/dataplane").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_TRUE(logged("listening on " + path_));
  loop_.reset();
  server_.reset();
  EXPECT_NE(::stat(path_.c_str(), &st), 0) << "the socket file outlived the server";
}

TEST_F(ApiTest, GoodRequestsReachTheHandlerOnceAndGetItsReply) {
  start_server();
  ApiClient client;
  connect(client);
  EXPECT_EQ(client.dataplane_pid(), ::getpid());

  CallResult r = client.hello();
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.reply.value, 1000u);
  EXPECT_STREQ(r.reply.detail, "fake dataplane");

  const SaRecord sa = good_sa(1, Direction::outbound, 6);
  r = client.add_sa(sa);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.reply.value, 0u);
  r = client.add_sa(sa);
  EXPECT_EQ(r.call, CallStatus::ok);
  EXPECT_EQ(r.reply.status, ReplyStatus::exists);
  EXPECT_EQ(r.describe(), "exists: SA exists");
  EXPECT_TRUE(client.update_sa(sa).ok());
  EXPECT_TRUE(client.add_policy(good_policy(6)).ok());
  EXPECT_TRUE(client.delete_policy(good_policy(6)).ok());
  EXPECT_TRUE(client.delete_sa(SaRef{sa.spi, Direction::outbound}).ok());
  r = client.delete_sa(SaRef{sa.spi, Direction::outbound});
  EXPECT_EQ(r.reply.status, ReplyStatus::unknown_sa);

  std::lock_guard lock(handler_.mu);
  ASSERT_EQ(handler_.received.size(), 8u);  // each request exactly once, in order
  const MessageType want[] = {MessageType::hello,      MessageType::sa_add,
                              MessageType::sa_add,     MessageType::sa_update,
                              MessageType::policy_add, MessageType::policy_delete,
                              MessageType::sa_delete,  MessageType::sa_delete};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(handler_.received[i].header.type, want[i]) << i;
    EXPECT_EQ(handler_.received[i].header.request_id, i + 1) << "request ids increase";
  }
  EXPECT_EQ(std::memcmp(&handler_.received[1].body.sa, &sa, sizeof sa), 0);
  EXPECT_EQ(client.stats().requests, 8u);
  EXPECT_EQ(client.stats().answers, 8u);
}

TEST_F(ApiTest, BadMessagesGetErrorsAndNeverReachTheHandler) {
  start_server();
  ApiClient client;
  connect(client);

  struct Case {
    Message message;
    ReplyStatus status;
    const char* detail;
  };
  std::vector<Case> cases;
  Message m = request(MessageType::hello);
  m.header.version = kApiVersion + 1;
  cases.push_back({m, ReplyStatus::bad_version, "header.version"});
  m = request(MessageType::hello);
  m.header.type = static_cast<MessageType>(200);
  cases.push_back({m, ReplyStatus::unknown_type, "header.type"});
  m = request(MessageType::hello);
  m.header.type = MessageType::reply;  // an answer type sent as a request
  cases.push_back({m, ReplyStatus::unknown_type, "header.type"});
  m = request(MessageType::sa_add, good_sa(0));
  m.header.length -= 8;
  cases.push_back({m, ReplyStatus::bad_length, "header.length"});
  SaRecord sa = good_sa(2);
  sa.ttl = 0;
  cases.push_back({request(MessageType::sa_add, sa), ReplyStatus::bad_field, "sa.ttl"});
  sa = good_sa(4);
  sa.transform = 9;
  cases.push_back({request(MessageType::sa_update, sa), ReplyStatus::bad_field, "sa.transform"});
  PolicyRecord p = good_policy(4);
  p.selector.prefix_len = 40;
  cases.push_back(
      {request(MessageType::policy_add, p), ReplyStatus::bad_field, "policy.selector.prefix_len"});
  cases.push_back({request(MessageType::sa_delete, SaRef{3, Direction::inbound}),
                   ReplyStatus::bad_field, "sa_ref.spi"});

  for (const Case& c : cases) {
    const RawResult r = client.call(c.message);
    ASSERT_EQ(r.call, CallStatus::ok) << r.error;
    ASSERT_EQ(r.answers.size(), 1u);
    EXPECT_EQ(r.answers[0].header.type, MessageType::reply);
    EXPECT_EQ(r.reply.status, c.status) << c.detail;
    EXPECT_NE(std::strstr(r.reply.detail, c.detail), nullptr) << r.reply.detail;
  }
  // The typed call path refuses the same way.
  const CallResult typed = client.add_sa(sa);
  EXPECT_EQ(typed.reply.status, ReplyStatus::bad_field);
  EXPECT_EQ(handler_.count(), 0u);

  // ...and the session still works.
  EXPECT_TRUE(client.hello().ok());
  EXPECT_EQ(handler_.count(), 1u);

  loop_->stop();
  const ServerCounters& c = server_->counters();
  EXPECT_EQ(c.requests, cases.size() + 2);
  EXPECT_EQ(c.bad_requests[static_cast<int>(ReplyStatus::bad_version)], 1u);
  EXPECT_EQ(c.bad_requests[static_cast<int>(ReplyStatus::unknown_type)], 2u);
  EXPECT_EQ(c.bad_requests[static_cast<int>(ReplyStatus::bad_length)], 1u);
  EXPECT_EQ(c.bad_requests[static_cast<int>(ReplyStatus::bad_field)], 5u);
  EXPECT_EQ(c.bad_requests_total(), cases.size() + 1);
  EXPECT_TRUE(logged("bad request"));
}

TEST_F(ApiTest, CountersAndSaListArePaged) {
  handler_.counter_count = 10;
  for (uint32_t i = 0; i < 40; ++i) {
    handler_.installed.push_back(SaRef{0x2000 + i, Direction::inbound});
  }
  start_server();
  ApiClient client;
  connect(client);

  const CountersResult counters = client.counters();
  ASSERT_TRUE(counters.ok()) << counters.describe();
  ASSERT_EQ(counters.counters.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(counters.counters[i].name, "counter_" + std::to_string(i));
    EXPECT_EQ(counters.counters[i].value, i * 10);
  }
  const SaListResult list = client.list_sas();
  ASSERT_TRUE(list.ok()) << list.describe();
  ASSERT_EQ(list.sas.size(), 40u);
  for (uint32_t i = 0; i < 40; ++i) {
    EXPECT_EQ(list.sas[i].spi, 0x2000 + i);
  }
  const SaCountersResult one = client.sa_counters(SaRef{0x2005, Direction::inbound});
  ASSERT_TRUE(one.ok()) << one.describe();
  EXPECT_EQ(one.counters.packets, 0x2005u);
  EXPECT_EQ(handler_.count(), 1u + 3u + 1u);  // one counters request, three list pages, one SA
}

TEST_F(ApiTest, AnswersLargerThanTheReplyRingFlowWithBackpressure) {
  handler_.counter_count = 400;  // 100 pages through a ring of 4
  ServerConfig c = config();
  c.segment.reply_capacity = 4;
  start_server(std::move(c));
  ApiClient client;
  connect(client);
  const CountersResult counters = client.counters();
  ASSERT_TRUE(counters.ok()) << counters.describe();
  ASSERT_EQ(counters.counters.size(), 400u);
  EXPECT_EQ(counters.counters[399].value, 3990u);
  EXPECT_TRUE(client.hello().ok());
}

TEST_F(ApiTest, HandlerThatAnswersWrongStillYieldsExactlyOneReply) {
  start_server();
  ApiClient client;
  connect(client);
  handler_.mode = FakeHandler::Mode::silent;
  CallResult r = client.hello();
  EXPECT_EQ(r.call, CallStatus::ok);
  EXPECT_EQ(r.reply.status, ReplyStatus::internal);
  handler_.mode = FakeHandler::Mode::twice;
  r = client.hello();
  EXPECT_TRUE(r.ok()) << r.describe();
  handler_.mode = FakeHandler::Mode::throws;
  r = client.hello();
  EXPECT_EQ(r.reply.status, ReplyStatus::internal);
  handler_.mode = FakeHandler::Mode::normal;
  r = client.hello();
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.reply.value, 1000u);
  EXPECT_EQ(client.stats().stale_answers, 0u);  // the second answer was never sent
  loop_->stop();
  EXPECT_EQ(server_->counters().handler_errors, 3u);
  EXPECT_TRUE(logged("fake failure"));
}

TEST_F(ApiTest, ClientThatDiesLeavesTheServerServing) {
  server_ = std::make_unique<ApiServer>(config());
  ASSERT_EQ(server_->start(), "");
  // Fork before any thread exists; the child connects, sends a request it
  // never waits for, and dies without closing anything.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ApiClient client;
    if (!client.connect(path_, 5s).empty() || !client.hello().ok()) {
      _exit(1);
    }
    client.set_timeout(1ms);
    client.add_sa(good_sa(0));
    _exit(0);
  }
  int status = -1;
  ASSERT_TRUE(poll_until([&] {
    if (status == -1 && ::waitpid(pid, &status, WNOHANG) == 0) {
      status = -1;
    }
    return status != -1 && !server_->has_client() && server_->counters().clients_accepted == 1;
  }));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(handler_.disconnected.load(), 1);
  EXPECT_TRUE(logged("dropped"));

  loop_ = std::make_unique<ServerLoop>(*server_, handler_);
  loop_->start();
  ApiClient client;
  connect(client);
  EXPECT_TRUE(client.hello().ok());
  EXPECT_TRUE(client.add_sa(good_sa(3)).ok());
  loop_->stop();
  EXPECT_EQ(server_->counters().clients_accepted, 2u);
  EXPECT_EQ(server_->counters().clients_disconnected, 1u);
  EXPECT_EQ(handler_.connected.load(), 2);
}

TEST_F(ApiTest, SecondSimultaneousClientIsRefused) {
  start_server();
  ApiClient first;
  connect(first);
  ApiClient second;
  const std::string error = second.connect(path_, 2s);
  EXPECT_NE(error.find("another control client"), std::string::npos) << error;
  EXPECT_FALSE(second.connected());
  EXPECT_TRUE(first.hello().ok());
  EXPECT_TRUE(logged("refused control client"));

  // Once the first goes, the next one is welcome.
  first.disconnect();
  ASSERT_EQ(second.connect(path_, 2s), "");
  EXPECT_TRUE(second.hello().ok());
  loop_->stop();
  EXPECT_EQ(server_->counters().clients_rejected, 1u);
  EXPECT_EQ(server_->counters().clients_accepted, 2u);
}

TEST_F(ApiTest, OtherUidIsRefused) {
  ServerConfig c = config();
  c.allowed_uid = static_cast<int64_t>(::geteuid()) + 1;
  start_server(std::move(c));
  ApiClient client;
  const std::string error = client.connect(path_, 2s);
  EXPECT_NE(error.find("not permitted"), std::string::npos) << error;
  EXPECT_EQ(handler_.connected.load(), 0);
}

TEST_F(ApiTest, StaleSocketIsReplacedLiveOneAndOtherFilesAreNot) {
  std::filesystem::create_directories(dir_ + "/run/dataplane");
  {
    // A socket file whose listener is gone: what a crashed dataplane leaves.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  start_server();
  EXPECT_TRUE(logged("replaced stale socket"));
  ApiServer rival(config());
  const std::string error = rival.start();
  EXPECT_NE(error.find("already listening"), std::string::npos) << error;
  ApiClient client;
  connect(client);
  EXPECT_TRUE(client.hello().ok());

  ServerConfig other = config();
  other.socket_path = dir_ + "/not-a-socket";
  {
    std::FILE* f = std::fopen(other.socket_path.c_str(), "w");
    std::fclose(f);
  }
  ApiServer careful(other);
  EXPECT_NE(careful.start().find("not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(other.socket_path));

  other.socket_path = dir_ + "/" + std::string(120, 's');
  ApiServer too_long(other);
  EXPECT_NE(too_long.start().find("longer than"), std::string::npos);
}

TEST_F(ApiTest, EventsReachTheClientAndDropsAreCounted) {
  ServerConfig c = config();
  c.segment.event_capacity = 4;
  server_ = std::make_unique<ApiServer>(std::move(c));
  ASSERT_EQ(server_->start(), "");
  Event e{};
  e.type = EventType::path_mtu_changed;
  EXPECT_FALSE(server_->post_event(e));  // nobody to tell
  EXPECT_EQ(server_->counters().events_dropped_no_client, 1u);

  loop_ = std::make_unique<ServerLoop>(*server_, handler_);
  loop_->start();
  ApiClient client;
  connect(client);
  loop_->stop();  // the test thread is the control thread from here on
  for (uint32_t i = 0; i < 6; ++i) {
    e.spi = 0x3000 + i;
    e.value = 1300 + i;
    server_->post_event(e);
  }
  EXPECT_EQ(server_->counters().events_posted, 4u);
  EXPECT_EQ(server_->counters().events_dropped_full, 2u);
  EXPECT_EQ(server_->counters().events_dropped(), 3u);

  std::vector<Event> got;
  EXPECT_EQ(client.poll_events([&](const Event& ev) { got.push_back(ev); }), 4u);
  ASSERT_EQ(got.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i].type, EventType::path_mtu_changed);
    EXPECT_EQ(got[i].spi, 0x3000 + i);
    EXPECT_EQ(got[i].value, 1300 + i);
  }
  Event none{};
  EXPECT_FALSE(client.next_event(&none));
  EXPECT_TRUE(server_->post_event(e));  // room again
  EXPECT_TRUE(client.next_event(&none));
  EXPECT_EQ(client.stats().events, 5u);
}

TEST_F(ApiTest, TimedOutRequestsAnswerIsDiscardedLater) {
  start_server();
  ApiClient client;
  connect(client);
  loop_->stop();  // the dataplane stalls
  client.set_timeout(50ms);
  const CallResult late = client.hello();
  EXPECT_EQ(late.call, CallStatus::timeout);
  EXPECT_NE(late.error.find("no answer"), std::string::npos) << late.error;
  loop_->start();
  client.set_timeout(2s);
  const CallResult r = client.add_sa(good_sa(0));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(client.stats().stale_answers, 1u);
  EXPECT_EQ(client.last_request_id(), 2u);
}

TEST_F(ApiTest, DataplaneThatExitsIsReportedPromptly) {
  start_server();
  ApiClient client;
  connect(client);
  loop_.reset();
  server_.reset();  // closes the socket, as a dying process would
  client.set_timeout(20s);
  const auto started = std::chrono::steady_clock::now();
  const CallResult r = client.hello();
  EXPECT_EQ(r.call, CallStatus::dataplane_gone) << r.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.hello().call, CallStatus::not_connected);
  EXPECT_FALSE(client.connect(path_, 100ms).empty());
}

TEST_F(ApiTest, ConnectWaitsForAStartingDataplane) {
  std::string error = "not run";
  std::thread early([&] {
    ApiClient client;
    error = client.connect(path_, 5s);
    if (error.empty() && !client.hello().ok()) {
      error = "hello failed";
    }
  });
  std::this_thread::sleep_for(100ms);
  start_server();
  early.join();
  EXPECT_EQ(error, "");
}

TEST_F(ApiTest, ClientThatCorruptsItsRingIsDropped) {
  start_server();
  // A hand-made client: takes the segment and scribbles on the request ring.
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  Greeting greeting{};
  UniqueFd memfd;
  ASSERT_EQ(receive_greeting(sock.get(), 2s, &greeting, &memfd), "");
  ASSERT_EQ(greeting.status, GreetingStatus::accepted);
  Segment segment;
  ASSERT_TRUE(Segment::attach(std::move(memfd), &segment).ok());
  auto* ring = static_cast<RingHeader*>(segment.ring_memory(RingKind::request));
  ring->tail.store(ring->head.load() + 100000);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (handler_.disconnected.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(handler_.disconnected.load(), 1);
  EXPECT_EQ(handler_.count(), 0u);

  ApiClient client;
  connect(client);
  EXPECT_TRUE(client.hello().ok());
  loop_->stop();
  EXPECT_EQ(server_->counters().ring_corruptions, 1u);
  EXPECT_TRUE(logged("corrupted the request ring"));
}

TEST_F(ApiTest, CountersAreVisibleByName) {
  start_server();
  loop_->stop();
  std::vector<std::string> names;
  server_->counters().visit([&](std::string_view name, uint64_t) { names.emplace_back(name); });
  EXPECT_NE(std::find(names.begin(), names.end(), "api_bad_requests_bad_field"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "api_events_dropped_full"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "api_clients_rejected"), names.end());
}

}  // namespace
}  // namespace traverse::api
