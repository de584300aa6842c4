#include "control/ctl/control_server.hh"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "control/ctl/test_server.hh"

namespace traverse::ctl {
namespace {

using json = nlohmann::json;
using testing::RawClient;
using testing::TestServer;

json reply_to(RawClient& client, const std::string& line) {
  EXPECT_TRUE(client.send(line + "\n"));
  auto reply = client.read_line();
  if (!reply) {
    ADD_FAILURE() << "no reply to " << line.substr(0, 80);
    return json();
  }
  json parsed = json::parse(*reply, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << *reply;
  return parsed;
}

ControlServerCounters counters(TestServer& server) {
  return server.on_io([&] { return server.server().counters(); });
}

std::size_t clients(TestServer& server) {
  return server.on_io([&] { return server.server().client_count(); });
}

// Waits for the io thread to notice closed connections.
bool wait_for_clients(TestServer& server, std::size_t expected) {
  for (int i = 0; i < 500; ++i) {
    if (clients(server) == expected) {
      return true;
    }
    usleep(10'000);
  }
  return false;
}

TEST(ControlServer, SocketIsOwnerOnlyAndRemovedOnStop) {
  auto server = std::make_unique<TestServer>();
  ASSERT_EQ(server->start(), "");
  struct stat st {};
  ASSERT_EQ(::lstat(server->path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  const std::string path = server->path();
  server->on_io([&] {
    server->server().stop();
    return 0;
  });
  EXPECT_NE(::lstat(path.c_str(), &st), 0);
}

TEST(ControlServer, RequestResponseRoundTrip) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  RawClient client(server.path());
  ASSERT_TRUE(client.connected());
  json reply = reply_to(client, R"({"id": 5, "cmd": "echo", "args": {"a": [1, "x"]}})");
  EXPECT_EQ(reply["id"], 5);
  EXPECT_EQ(reply["ok"], true);
  EXPECT_EQ(reply["result"]["args"], json::parse(R"({"a": [1, "x"]})"));
  // Two requests in one write (and CRLF): two replies, in order.
  ASSERT_TRUE(
      client.send("{\"id\": 6, \"cmd\": \"status\"}\r\n{\"id\": \"seven\", \"cmd\": "
                  "\"echo\", \"args\": null}\n"));
  auto first = client.read_line();
  auto second = client.read_line();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(json::parse(*first)["result"]["version"], "0.1.0");
  EXPECT_EQ(json::parse(*second)["id"], "seven");
  EXPECT_EQ(json::parse(*second)["result"]["args"], json::object());
  EXPECT_EQ(counters(server).requests, 3u);
  EXPECT_EQ(counters(server).errors, 0u);
}

TEST(ControlServer, HelpListsCommands) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  RawClient client(server.path());
  json reply = reply_to(client, R"({"id": 1, "cmd": "help"})");
  ASSERT_TRUE(reply["ok"].get<bool>());
  std::vector<std::string> names;
  for (const json& c : reply["result"]["commands"]) {
    names.push_back(c["name"]);
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "help"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "status"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "list-sas"), names.end());
}

TEST(ControlServer, BadRequestsGetErrorRepliesAndTheConnectionSurvives) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  RawClient client(server.path());
  struct Case {
    std::string line;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"this is not json", "not valid JSON"},
      {"{\"id\": 1, \"cmd\": \"status\"", "not valid JSON"},
      {"[1, 2, 3]", "expected an object"},
      {R"({"id": 2})", "\"cmd\" must be a string"},
      {R"({"id": 3, "cmd": 42})", "\"cmd\" must be a string"},
      {R"({"id": 4, "cmd": "echo", "args": [1]})", "\"args\" must be an object"},
      {R"({"id": 5, "cmd": "no-such-command"})", "unknown command 'no-such-command'"},
      {R"({"id": 6, "cmd": "throws"})", "throws: "},
      {std::string(1000, '[') + std::string(1000, ']'), "nested more than 64"},
      {"{\"id\": 7, \"cmd\": \"\xff\xfe\"}", "not valid JSON"},
  };
  for (const Case& c : cases) {
    json reply = reply_to(client, c.line);
    EXPECT_EQ(reply["ok"], false) << c.line.substr(0, 60);
    EXPECT_NE(reply["error"].get<std::string>().find(c.error), std::string::npos) << reply.dump();
  }
  EXPECT_EQ(reply_to(client, R"({"id": 8, "cmd": "status"})")["ok"], true);
  const ControlServerCounters n = counters(server);
  EXPECT_EQ(n.requests, cases.size() + 1);
  EXPECT_EQ(n.errors, cases.size());
  EXPECT_EQ(n.unknown_commands, 1u);
  EXPECT_EQ(n.handler_failures, 1u);
  EXPECT_EQ(n.bad_requests, cases.size() - 2);
}

TEST(ControlServer, OversizedLineIsRefusedAndClosed) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  RawClient client(server.path());
  // 64 KiB + 1 without a newline: the server must not wait for more.
  ASSERT_TRUE(
      client.send(R"({"id": 1, "cmd": "echo", "args": {"pad": ")" + std::string(64 * 1024, 'x')));
  auto reply = client.read_line();
  ASSERT_TRUE(reply);
  json parsed = json::parse(*reply);
  EXPECT_EQ(parsed["ok"], false);
  EXPECT_NE(parsed["error"].get<std::string>().find("longer than 65536 bytes"), std::string::npos);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(counters(server).oversized_lines, 1u);
  // A line just under the limit is fine.
  RawClient next(server.path());
  const std::string prefix = R"({"id": 2, "cmd": "echo", "args": {"pad": ")";
  const std::string line = prefix + std::string(64 * 1024 - prefix.size() - 3, 'y') + "\"}}";
  ASSERT_EQ(line.size(), 64u * 1024u);
  EXPECT_EQ(reply_to(next, line)["ok"], true);
}

TEST(ControlServer, TooManyClientsAreTurnedAway) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  std::vector<std::unique_ptr<RawClient>> connected;
  for (int i = 0; i < 16; ++i) {
    connected.push_back(std::make_unique<RawClient>(server.path()));
    ASSERT_EQ(reply_to(*connected.back(), R"({"id": 1, "cmd": "status"})")["ok"], true) << i;
  }
  RawClient extra(server.path());
  auto refusal = extra.read_line();
  ASSERT_TRUE(refusal);
  EXPECT_EQ(json::parse(*refusal)["error"], "too many clients (limit 16)");
  EXPECT_TRUE(extra.closed_by_peer());
  EXPECT_EQ(counters(server).refused_clients, 1u);
  // One leaves: there is room again.
  connected.front().reset();
  ASSERT_TRUE(wait_for_clients(server, 15));
  RawClient again(server.path());
  EXPECT_EQ(reply_to(again, R"({"id": 1, "cmd": "status"})")["ok"], true);
}

TEST(ControlServer, ClientDisconnectingMidLine) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  {
    RawClient client(server.path());
    ASSERT_TRUE(client.send(R"({"id": 1, "cmd": "sta)"));
    ASSERT_TRUE(wait_for_clients(server, 1));
  }
  ASSERT_TRUE(wait_for_clients(server, 0));
  EXPECT_EQ(counters(server).requests, 0u);  // half a line is no request
  RawClient next(server.path());
  EXPECT_EQ(reply_to(next, R"({"id": 2, "cmd": "status"})")["ok"], true);
}

TEST(ControlServer, RefusesUnsafeOrBusyPaths) {
  {
    TestServer server;
    std::ofstream(server.path()) << "a regular file\n";
    EXPECT_NE(server.start().find("exists and is not a socket"), std::string::npos);
  }
  {
    TestServer server;
    ASSERT_EQ(::chmod(server.dir().c_str(), 0777), 0);
    EXPECT_NE(server.start().find("writable by group or others (mode 0777)"), std::string::npos);
    ASSERT_EQ(::chmod(server.dir().c_str(), 0770), 0);
    EXPECT_NE(server.start().find("writable by group or others (mode 0770)"), std::string::npos);
  }
  {
    TestServer first;
    ASSERT_EQ(first.start(), "");
    asio::io_context io;
    ControlServer second(io, first.path());
    auto started = second.start();
    ASSERT_FALSE(started);
    EXPECT_NE(started.error().find("another process is listening"), std::string::npos);
    RawClient client(first.path());  // the first server is unharmed
    EXPECT_EQ(reply_to(client, R"({"id": 1, "cmd": "status"})")["ok"], true);
  }
}

TEST(ControlServer, ReplacesAStaleSocket) {
  TestServer server;
  // A socket file left behind by a process that died.
  const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, server.path().data(), server.path().size());
  ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(stale);
  ASSERT_EQ(server.start(), "");
  RawClient client(server.path());
  EXPECT_EQ(reply_to(client, R"({"id": 1, "cmd": "status"})")["ok"], true);
}

TEST(ControlServer, PeersWithAnotherUidAreRefused) {
  TestServer server;
  ASSERT_EQ(server.start(), "");
  if (geteuid() != 0) {
    // Not root: allow some other uid only, so we are the stranger.
    server.on_io([&] {
      server.server().set_allowed_uid(geteuid() + 1);
      return 0;
    });
    RawClient client(server.path());
    auto line = client.read_line();
    ASSERT_TRUE(line);
    EXPECT_EQ(json::parse(*line)["error"], "permission denied");
    EXPECT_EQ(counters(server).refused_peers, 1u);
    return;
  }
  // Root: open the file modes so that "nobody" can reach the socket at all,
  // leaving SO_PEERCRED as the only guard.
  ASSERT_EQ(::chmod(server.dir().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(server.path().c_str(), 0666), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(3);
    }
    RawClient client(server.path());
    if (!client.connected()) {
      ::_exit(4);
    }
    client.send("{\"id\": 1, \"cmd\": \"status\"}\n");
    auto line = client.read_line();
    ::_exit(line && line->find("permission denied") != std::string::npos ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(counters(server).refused_peers, 1u);
  EXPECT_EQ(counters(server).requests, 0u);
}

TEST(ControlServer, HandleLineWithoutASocket) {
  asio::io_context io;
  ControlServer server(io, "/nonexistent/control.sock");
  server.register_command("add", [](const json& args) -> Expected<json, std::string> {
    return json(args.at("a").get<int>() + args.at("b").get<int>());
  });
  EXPECT_EQ(json::parse(server.handle_line(R"({"id": 9, "cmd": "add", "args": {"a": 2, "b": 3}})")),
            json::parse(R"({"id": 9, "ok": true, "result": 5})"));
  json wrong = json::parse(server.handle_line(R"({"id": 9, "cmd": "add", "args": {"a": "x"}})"));
  EXPECT_EQ(wrong["ok"], false);
  EXPECT_EQ(server.counters().handler_failures, 1u);
  auto started = server.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace traverse::ctl
