// traverse-dataplane: the DPDK poll-mode ESP engine. Reads the [dataplane]
// table of a TOML config, starts the EAL, opens the outside and inside ports
// and their exception TAPs, installs static SAs, launches one worker per
// worker lcore and serves the dataplane API on the main lcore until SIGINT or
// SIGTERM (or --run-seconds), then prints its counters as JSON.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "dataplane/api/server.hh"
#include "dataplane/engine/control_thread.hh"
#include "dataplane/engine/dataplane_config.hh"
#include "dataplane/engine/huge_pages.hh"
#include "dataplane/engine/neighbor/neighbor_cache.hh"
#include "dataplane/engine/worker.hh"
#include "drivers/port/ethdev_port.hh"
#include "drivers/port/exception_tap.hh"

namespace {

volatile std::sig_atomic_t g_signalled = 0;

void on_signal(int) {
  g_signalled = 1;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "traverse-dataplane: %s\n", message.c_str());
  return 1;
}

// Adapts the API server's handler interface to the control thread.
class ApiHandler : public traverse::api::Handler {
 public:
  explicit ApiHandler(traverse::engine::ControlThread& control) : control_(control) {}
  void on_request(const traverse::api::Message& request, traverse::api::ReplySink& out) override {
    control_.handle(request, out);
  }

 private:
  traverse::engine::ControlThread& control_;
};

int worker_main(void* arg) {
  static_cast<traverse::engine::Worker*>(arg)->run();
  return 0;
}

int run(const traverse::engine::DataplaneConfig& config, double run_seconds, double measure_from,
        const std::string& stats_path) {
  using namespace traverse;
  std::string error;
  engine::Engine engine;
  engine.config = &config;
  engine.workers = static_cast<uint16_t>(config.workers);
  engine.tsc_hz = rte_get_tsc_hz();
  const uint16_t max_mtu = std::max(config.outside.mtu, config.inside.mtu);
  // Room for the largest frame, the ESP headers in front and the trailer behind.
  const uint32_t data_room = RTE_PKTMBUF_HEADROOM + max_mtu + 14 + 128;
  engine.pool = rte_pktmbuf_pool_create(
      "traverse_mbufs", config.mbufs, 256, 0,
      static_cast<uint16_t>(std::max<uint32_t>(data_room, RTE_MBUF_DEFAULT_BUF_SIZE)),
      static_cast<int>(rte_socket_id()));
  if (engine.pool == nullptr) {
    return fail("cannot create " + std::to_string(config.mbufs) +
                " mbufs: " + rte_strerror(rte_errno));
  }

  const size_t rcu_size = rte_rcu_qsbr_get_memsize(engine.workers);
  engine.rcu =
      static_cast<rte_rcu_qsbr*>(rte_zmalloc("traverse_rcu", rcu_size, RTE_CACHE_LINE_SIZE));
  if (engine.rcu == nullptr || rte_rcu_qsbr_init(engine.rcu, engine.workers) != 0) {
    return fail("cannot set up RCU");
  }
  std::vector<std::unique_ptr<engine::NeighborCache>> neighbors;
  const engine::PortConfig* port_configs[engine::kPortCount] = {&config.outside, &config.inside};
  for (int p = 0; p < engine::kPortCount; ++p) {
    const engine::PortConfig& pc = *port_configs[p];
    port::PortSetup setup;
    setup.devargs = pc.device;
    setup.workers = engine.workers;
    setup.mtu = pc.mtu;
    setup.pool = engine.pool;
    setup.queues_spread_flows = pc.queues_spread_flows;
    std::optional<port::EthPort> eth = port::EthPort::open(setup, &error);
    if (!eth) {
      return fail(pc.name + " port: " + error);
    }
    engine::PortRuntime& runtime = engine.ports[p];
    runtime.port_id = eth->id;
    runtime.rx_queues = eth->rx_queues;
    runtime.mac = eth->mac;
    runtime.mtu = pc.mtu;
    runtime.route.build(pc);
    if (!pc.tap.empty()) {
      port::ExceptionTapSetup tap;
      tap.ifname = pc.tap;
      tap.mac = eth->mac;
      for (const engine::Prefix& prefix : pc.addresses) {
        tap.addresses.emplace_back(prefix.address, prefix.length);
      }
      tap.gateways = pc.gateways;
      tap.workers = engine.workers;
      tap.mtu = pc.mtu;
      tap.pool = engine.pool;
      std::optional<port::EthPort> tap_port = port::open_exception_tap(tap, &error);
      if (!tap_port) {
        return fail(pc.name + " exception TAP " + pc.tap + ": " + error);
      }
      runtime.tap_id = tap_port->id;
      runtime.has_tap = true;
    }
    neighbors.push_back(std::make_unique<engine::NeighborCache>());
    engine::NeighborConfig neighbor_config;
    neighbor_config.name = "nb_" + pc.name;
    neighbor_config.capacity = 4096;
    neighbor_config.ticks_per_second = engine.tsc_hz;
    if (!neighbors.back()->init(neighbor_config, engine.rcu, &error)) {
      return fail(pc.name + " neighbor table: " + error);
    }
    runtime.neighbors = neighbors.back().get();
  }

  if (!engine.tables.init(config.max_sas, engine.rcu, &error)) {
    return fail(error);
  }
  engine.counters = std::make_unique<engine::WorkerCounters[]>(engine.workers);
  for (uint16_t w = 0; w < engine.workers; ++w) {
    const std::string suffix = std::to_string(w);
    engine.handoff.push_back(rte_ring_create(("handoff" + suffix).c_str(), 4096,
                                             static_cast<int>(rte_socket_id()), RING_F_SC_DEQ));
    engine.to_control.push_back(
        rte_ring_create_elem(("events" + suffix).c_str(), sizeof(engine::WorkerEvent), 4096,
                             static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ));
    engine.commands.push_back(
        rte_ring_create_elem(("commands" + suffix).c_str(), sizeof(engine::WorkerCommand), 1024,
                             static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ));
    if (engine.handoff.back() == nullptr || engine.to_control.back() == nullptr ||
        engine.commands.back() == nullptr) {
      return fail(std::string("cannot create worker rings: ") + rte_strerror(rte_errno));
    }
  }

  engine::ControlThread control(engine);
  if (!control.install_static(&error)) {
    return fail(error);
  }
  api::ServerConfig server_config;
  server_config.socket_path = config.api_socket;
  api::ApiServer server(server_config);
  if (std::string why = server.start(); !why.empty()) {
    return fail(why);
  }
  ApiHandler handler(control);

  std::vector<std::unique_ptr<engine::Worker>> workers;
  uint16_t index = 0;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (index == engine.workers) {
      break;
    }
    workers.push_back(std::make_unique<engine::Worker>(engine, index));
    rte_eal_remote_launch(worker_main, workers.back().get(), lcore);
    ++index;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::fprintf(stderr, "traverse-dataplane: running with %u worker(s), api at %s\n", engine.workers,
               config.api_socket.c_str());

  const uint64_t start = rte_rdtsc();
  const uint64_t limit = run_seconds > 0 ? static_cast<uint64_t>(run_seconds * engine.tsc_hz) : 0;
  // Benchmarks: counters are snapshot after the warm-up so that the rate
  // excludes start-up; the final JSON carries the difference.
  const uint64_t measure_at = static_cast<uint64_t>(measure_from * engine.tsc_hz);
  std::vector<std::pair<std::string, uint64_t>> warm;
  uint64_t warm_tsc = 0;
  while (g_signalled == 0 && (limit == 0 || rte_rdtsc() - start < limit)) {
    if (measure_from > 0 && warm_tsc == 0 && rte_rdtsc() - start >= measure_at) {
      warm = control.counter_snapshot();
      warm_tsc = rte_rdtsc();
    }
    server.poll(handler);
    control.service([&](const api::Event& event) { server.post_event(event); });
    // The control plane's pace: a few thousand passes a second is plenty
    // and leaves the main lcore's core to the kernel (TAP, control plane);
    // a request's doorbell ends the pause at once.
    server.wait(std::chrono::microseconds(200));
  }
  const uint64_t end_tsc = rte_rdtsc();
  const std::vector<std::pair<std::string, uint64_t>> last = control.counter_snapshot();
  engine.stop.store(true);
  rte_eal_mp_wait_lcore();

  nlohmann::json stats;
  for (const auto& [name, value] : control.counter_snapshot()) {
    stats[name] = value;
  }
  nlohmann::json sas = nlohmann::json::array();
  engine.tables.for_each([&](const engine::InboundEntry* in, const engine::OutboundEntry* out) {
    const engine::SaStats& s = in != nullptr ? in->stats : out->stats;
    sas.push_back({{"direction", in != nullptr ? "inbound" : "outbound"},
                   {"spi", in != nullptr ? in->spi : out->spi},
                   {"packets", s.packets.load()},
                   {"bytes", s.bytes.load()},
                   {"drops", s.drops.load()},
                   {"path_mtu", in != nullptr ? in->path_mtu : out->path_mtu.load()}});
  });
  stats["sas"] = sas;
  if (warm_tsc != 0) {
    nlohmann::json measured;
    measured["seconds"] =
        static_cast<double>(end_tsc - warm_tsc) / static_cast<double>(engine.tsc_hz);
    for (size_t i = 0; i < last.size() && i < warm.size(); ++i) {
      measured[last[i].first] = last[i].second - warm[i].second;
    }
    stats["measured"] = measured;
  }
  const std::string text = stats.dump(2);
  if (!stats_path.empty()) {
    if (FILE* f = std::fopen(stats_path.c_str(), "w")) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
  }
  std::printf("%s\n", text.c_str());
  workers.clear();
  for (int p = 0; p < engine::kPortCount; ++p) {
    rte_eth_dev_stop(engine.ports[p].port_id);
    if (engine.ports[p].has_tap) {
      rte_eth_dev_stop(engine.ports[p].tap_id);
      rte_eth_dev_close(engine.ports[p].tap_id);
    }
    rte_eth_dev_close(engine.ports[p].port_id);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace traverse;
  engine::reexec_with_huge_page_heap(argv);
  CLI::App app{"traverse-dataplane: DPDK ESP gateway dataplane"};
  std::string config_path;
  double run_seconds = 0;
  std::string stats_path;
  app.add_option("--config", config_path, "TOML file with a [dataplane] table")->required();
  app.add_option("--run-seconds", run_seconds, "stop after this long (tests, benchmarks)");
  app.add_option("--stats-json", stats_path, "write the final counters here as JSON");
  double measure_from = 0;
  app.add_option("--measure-from", measure_from,
                 "benchmarks: also report counter differences from this second to the end");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  std::optional<engine::DataplaneConfig> loaded =
      engine::load_dataplane_config(config_path, &error);
  if (!loaded) {
    return fail(error);
  }
  const engine::DataplaneConfig& config = *loaded;

  // EAL: argv[0], the configured options, and one lcore per worker plus the
  // main lcore unless the config places them itself.
  std::vector<std::string> eal = {argv[0]};
  bool has_lcores = false;
  for (const std::string& arg : config.eal_args) {
    has_lcores |= arg == "-l" || arg == "--lcores" || arg.rfind("--lcores=", 0) == 0;
    eal.push_back(arg);
  }
  if (!has_lcores) {
    eal.push_back("-l");
    eal.push_back("0-" + std::to_string(config.workers));
  }
  std::vector<char*> eal_argv;
  for (std::string& arg : eal) {
    eal_argv.push_back(arg.data());
  }
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    return fail(std::string("EAL init failed: ") + rte_strerror(rte_errno));
  }
  if (rte_lcore_count() < config.workers + 1) {
    return fail("need " + std::to_string(config.workers + 1) + " lcores (workers + main), have " +
                std::to_string(rte_lcore_count()));
  }

  // Every DPDK object lives inside run(), so all are gone before the EAL.
  const int status = run(config, run_seconds, measure_from, stats_path);
  rte_eal_cleanup();
  return status;
}
