// traversectl run as a subprocess against a test server with canned commands:
// exit codes, --json output and the readable tables.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "control/ctl/test_server.hh"

namespace traverse::ctl {
namespace {

using json = nlohmann::json;
using testing::TestServer;

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

CtlRun traversectl(const std::string& socket, const std::vector<std::string>& args) {
  const char* binary = std::getenv("TRAVERSECTL");
  CtlRun run;
  if (binary == nullptr) {
    ADD_FAILURE() << "meson sets TRAVERSECTL";
    return run;
  }
  const std::string err_file = "/tmp/traversectl-test-" + std::to_string(getpid()) + ".err";
  std::string command = quote(binary) + " --socket " + quote(socket);
  for (const std::string& arg : args) {
    command += " " + quote(arg);
  }
  command += " 2>" + quote(err_file);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed";
    return run;
  }
  char chunk[4096];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
    run.out.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  std::stringstream text;
  text << err.rdbuf();
  run.err = text.str();
  std::remove(err_file.c_str());
  return run;
}

json json_output(const CtlRun& run) {
  json parsed = json::parse(run.out, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << run.out;
  return parsed;
}

class TraversectlTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(server_.start(), ""); }
  CtlRun run(const std::vector<std::string>& args) { return traversectl(server_.path(), args); }
  TestServer server_;
};

TEST_F(TraversectlTest, StatusReadableAndJson) {
  CtlRun human = run({"status"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("uptime      42 s"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("IKE SAs     2 (0 half-open)"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("connected, pid 1234"), std::string::npos) << human.out;
  CtlRun machine = run({"--json", "status"});
  EXPECT_EQ(machine.exit_code, 0);
  json status = json_output(machine);
  EXPECT_EQ(status["uptime_s"], 42);
  EXPECT_EQ(status["dataplane"]["pid"], 1234);
}

TEST_F(TraversectlTest, ListSasToleratesMissingFields) {
  CtlRun human = run({"list-sas"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("IKE SA 3 roadwarriors: established, responder"), std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("[alice@traverse.lab]"), std::string::npos);
  EXPECT_NE(human.out.find("10.99.0.1/32"), std::string::npos);
  EXPECT_NE(human.out.find("IKE SA 4 -: connecting"), std::string::npos) << human.out;
  CtlRun machine = run({"list-sas", "--json"});  // options after the subcommand work too
  EXPECT_EQ(machine.exit_code, 0) << machine.err;
  EXPECT_EQ(json_output(machine)["ike_sas"][0]["children"][0]["spi_in"], "c1a2b3c4");
}

TEST_F(TraversectlTest, PoolsLeasesCounters) {
  CtlRun pools = run({"pools"});
  EXPECT_EQ(pools.exit_code, 0);
  EXPECT_NE(pools.out.find("POOL    ADDRESSES     SIZE  ONLINE  OFFLINE\n"
                           "office  10.99.0.0/24  254   1       2\n"),
            std::string::npos)
      << pools.out;
  CtlRun leases = run({"leases"});
  EXPECT_NE(leases.out.find("bob@traverse.lab    offline  86000 s"), std::string::npos)
      << leases.out;
  CtlRun counters = run({"counters"});
  EXPECT_NE(counters.out.find("ike.sa_init_received  12"), std::string::npos) << counters.out;
}

TEST_F(TraversectlTest, CommandsSendTheirArguments) {
  EXPECT_EQ(json_output(run({"--json", "terminate", "--ike", "3"}))["args"], json({{"ike", 3}}));
  EXPECT_EQ(json_output(run({"--json", "terminate", "--child", "7"}))["args"],
            json({{"child", 7}}));
  EXPECT_EQ(json_output(run({"--json", "terminate", "--peer", "alice@traverse.lab"}))["args"],
            json({{"peer", "alice@traverse.lab"}}));
  EXPECT_EQ(json_output(run({"--json", "rekey", "--child", "7"}))["args"], json({{"child", 7}}));
  EXPECT_EQ(json_output(run({"--json", "log-level", "debug"}))["args"], json({{"level", "debug"}}));
  EXPECT_EQ(json_output(run({"--json", "call", "echo", R"({"x": [1, 2]})"}))["args"],
            json::parse(R"({"x": [1, 2]})"));
  CtlRun reload = run({"reload"});
  EXPECT_EQ(reload.exit_code, 0);
  EXPECT_EQ(reload.out, "reload {}\n");
}

TEST_F(TraversectlTest, GatewayErrorsExitOne) {
  CtlRun ok = run({"initiate", "branch"});
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.out, "initiating branch\n");
  CtlRun missing = run({"initiate", "nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "traversectl: no connection named 'nowhere'\n");
  EXPECT_EQ(missing.out, "");
  CtlRun unknown = run({"call", "no-such-command"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown command"), std::string::npos);
}

TEST_F(TraversectlTest, UsageErrorsNeverReachTheGateway) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"terminate"},
                                             {"terminate", "--ike", "1", "--child", "2"},
                                             {"rekey", "--peer", "x"},
                                             {"log-level", "loud"},
                                             {"initiate"},
                                             {"call", "echo", "[1]"},
                                             {"call", "echo", "not json"},
                                             {}}) {
    CtlRun usage = run(args);
    EXPECT_NE(usage.exit_code, 0);
    EXPECT_NE(usage.exit_code, 1);
    EXPECT_NE(usage.exit_code, 2);
  }
  EXPECT_EQ(server_.on_io([&] { return server_.server().counters().requests; }), 0u);
}

TEST(Traversectl, CannotConnectExitsTwo) {
  CtlRun run = traversectl("/nonexistent/control.sock", {"status"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cannot connect to /nonexistent/control.sock"), std::string::npos)
      << run.err;
  // A server that turns every client away counts as "cannot connect" too.
  TestServer full(ControlServerLimits{.max_clients = 0});
  ASSERT_EQ(full.start(), "");
  CtlRun refused = traversectl(full.path(), {"status"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("too many clients"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace traverse::ctl
