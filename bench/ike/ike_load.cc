// traverse-ike-load: an IKEv2 setup-rate load generator built on Traverse's
// own initiator. N clients (client-N@load.lab) from one address and many
// source ports, PSK or per-client ECDSA P-256 certificates, each asking for
// a virtual IP and a first child SA. Fills to --hold tunnels, then times
// --setups more while holding them; prints a table, writes --json.
#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/ike/client_credentials.hh"
#include "bench/ike/load_driver.hh"
#include "bench/ike/load_host.hh"
#include "bench/ike/load_report.hh"
#include "control/gateway/algorithm_names.hh"
#include "control/ike/auth/identity.hh"
#include "control/ike/auth/identity_pattern.hh"

namespace {

using namespace traverse;

struct Args {
  std::string responder = "198.51.100.1";
  uint16_t responder_port = 500;
  uint16_t natt_port = 4500;
  std::string local = "198.51.100.10";
  uint16_t first_port = 20000;
  unsigned ports = 256;
  std::string auth = "psk";
  std::string psk = "load-psk-0123456789";
  std::string ca, ca_key;
  std::vector<std::string> ike_proposals{"aes128gcm16-prfsha256-x25519"};
  std::vector<std::string> esp_proposals{"aes128gcm16"};
  std::string remote_ts = "10.1.0.0/24";
  std::string remote_id = "%any";
  std::string id_prefix = "client-";
  std::string id_domain = "load.lab";
  uint64_t first_index = 0;
  unsigned retransmit_ms = 2000;
  unsigned retransmit_tries = 4;
  std::string json_path;
  std::string log_level = "error";
  traverse::bench::DriverOptions driver;
};

Expected<std::vector<ike::ProposalSpec>, std::string> specs(const std::vector<std::string>& texts,
                                                            bool esp) {
  std::vector<ike::ProposalSpec> out;
  for (const auto& text : texts) {
    auto p = esp ? gateway::parse_esp_proposal(text) : gateway::parse_ike_proposal(text);
    if (!p)
      return unexpected((esp ? "--esp-proposal " : "--ike-proposal ") + text + ": " + p.error());
    ike::ProposalSpec spec;
    for (const auto& t : p->transforms)
      spec.transforms.push_back({t.type, t.id, t.key_bits});
    out.push_back(std::move(spec));
  }
  return out;
}

Expected<ike::TsRange, std::string> parse_cidr(const std::string& text) {
  const auto slash = text.find('/');
  asio::error_code ec;
  const auto address = asio::ip::make_address(text.substr(0, slash), ec);
  if (ec)
    return unexpected("--remote-ts " + text + ": not ADDRESS/PREFIX");
  const unsigned max = address.is_v4() ? 32 : 128;
  unsigned length = max;
  if (slash != std::string::npos) {
    try {
      length = static_cast<unsigned>(std::stoul(text.substr(slash + 1)));
    } catch (const std::exception&) {
      length = max + 1;
    }
  }
  if (length > max)
    return unexpected("--remote-ts " + text + ": bad prefix length");
  return ike::TsRange::from_prefix(address, length);
}

Expected<asio::ip::address, std::string> parse_address(const std::string& what,
                                                       const std::string& text) {
  asio::error_code ec;
  auto a = asio::ip::make_address(text, ec);
  if (ec)
    return unexpected(what + " " + text + ": not an IP address");
  return a;
}

ike::LogLevel log_level_of(const std::string& name) {
  if (name == "debug")
    return ike::LogLevel::debug;
  if (name == "info")
    return ike::LogLevel::info;
  if (name == "warning")
    return ike::LogLevel::warning;
  return ike::LogLevel::error;
}

int fail(const std::string& why) {
  std::fprintf(stderr, "traverse-ike-load: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"traverse-ike-load: IKEv2 setup-rate load generator (Traverse's initiator)"};
  app.add_option("--responder", a.responder, "responder address");
  app.add_option("--responder-port", a.responder_port, "responder IKE port");
  app.add_option(
      "--natt-port", a.natt_port,
      "NAT-T port (ours and the responder's) after NAT detection or forced encapsulation");
  app.add_option("--local", a.local, "our address (must be configured here)");
  app.add_option("--first-port", a.first_port, "first local UDP source port");
  app.add_option("--ports", a.ports, "number of source ports (clients spread over them)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--auth", a.auth, "psk or cert")->check(CLI::IsMember({"psk", "cert"}));
  app.add_option("--psk", a.psk, "pre-shared key (--auth psk)");
  app.add_option("--ca", a.ca, "CA certificate (PEM): signs client certs, trusts the responder");
  app.add_option("--ca-key", a.ca_key, "CA private key (PEM) for minting client certificates");
  app.add_option("--ike-proposal", a.ike_proposals, "IKE proposal(s), strongSwan syntax");
  app.add_option("--esp-proposal", a.esp_proposals, "ESP proposal(s)");
  app.add_option("--remote-ts", a.remote_ts, "the responder's protected subnet (TSr)");
  app.add_option("--remote-id", a.remote_id, "accepted responder identity pattern");
  app.add_option("--id-prefix", a.id_prefix, "client identity: PREFIX<n>@DOMAIN");
  app.add_option("--id-domain", a.id_domain, "client identity domain");
  app.add_option("--first-index", a.first_index, "first client number");
  app.add_option("--hold", a.driver.hold, "tunnels to establish and hold")->required();
  app.add_option("--window", a.driver.window, "setups in flight")->check(CLI::Range(1, 100000));
  app.add_option("--setups", a.driver.measure_setups, "setups to time while holding");
  app.add_option("--duration", a.driver.measure_seconds, "upper bound of the measure phase (s)");
  std::string churn = "delete";
  app.add_option("--churn", churn, "measured tunnels: delete once up, or keep")
      ->check(CLI::IsMember({"delete", "keep"}));
  app.add_option("--stall", a.driver.stall_seconds, "give up after this long without progress");
  app.add_option("--max-failures", a.driver.max_failures, "give up after this many failures");
  app.add_option("--retransmit-ms", a.retransmit_ms, "first retransmission timeout");
  app.add_option("--retransmit-tries", a.retransmit_tries, "retransmissions before failing");
  app.add_option("--json", a.json_path, "write the results here");
  app.add_flag("--sync", a.driver.sync, "print HELD/DONE and wait for a stdin line after each");
  app.add_option("--log-level", a.log_level, "IKE log level on stderr")
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
  bool quiet = false;
  app.add_flag("--quiet", quiet, "no progress lines");
  CLI11_PARSE(app, argc, argv);
  a.driver.churn_delete = churn == "delete";
  a.driver.progress = !quiet;

  auto responder = parse_address("--responder", a.responder);
  auto local = parse_address("--local", a.local);
  auto ike_specs = specs(a.ike_proposals, false);
  auto esp_specs = specs(a.esp_proposals, true);
  auto remote_ts = parse_cidr(a.remote_ts);
  auto remote_id = ike::IdentityPattern::parse(a.remote_id);
  if (!responder)
    return fail(responder.error());
  if (!local)
    return fail(local.error());
  if (!ike_specs)
    return fail(ike_specs.error());
  if (!esp_specs)
    return fail(esp_specs.error());
  if (!remote_ts)
    return fail(remote_ts.error());
  if (!remote_id)
    return fail("--remote-id " + a.remote_id + ": " + remote_id.error());
  if (static_cast<unsigned>(a.first_port) + a.ports > 65536)
    return fail("--first-port + --ports goes past port 65535");

  std::optional<bench::ClientCertificateMint> mint;
  auto psk = std::make_shared<const ike::Secret>(ike::as_bytes(a.psk));
  if (a.auth == "cert") {
    if (a.ca.empty() || a.ca_key.empty())
      return fail("--auth cert needs --ca and --ca-key");
    auto m = bench::ClientCertificateMint::load(a.ca, a.ca_key);
    if (!m)
      return fail(m.error());
    mint.emplace(std::move(*m));
  }

  // The template every client's connection is copied from.
  ike::PeerConfig base;
  base.name = "load";
  base.remote_id = *remote_id;
  base.local_auth = base.remote_auth = mint ? ike::AuthKind::pubkey : ike::AuthKind::psk;
  base.psk = psk;
  base.ike_proposals = *ike_specs;
  base.esp_proposals = *esp_specs;
  base.remote_ts = {*remote_ts};
  base.remote_ts_dynamic = false;
  base.request_virtual_ip = true;
  base.remote = ike::Endpoint(*responder, a.responder_port);
  base.dpd_interval = std::chrono::seconds(0);  // a liveness storm would distort the rate
  base.ike_lifetime = std::chrono::seconds(86400);
  base.child_lifetime = std::chrono::seconds(86400);

  // Certificates are minted before the clock starts: the generator's own
  // signing cost must not count against the responder.
  const uint64_t clients =
      a.driver.hold + a.driver.measure_setups + 2ull * a.driver.window + a.driver.max_failures;
  std::vector<std::shared_ptr<const ike::Credentials>> creds;
  std::string mint_error;
  auto identity_text = [&](uint64_t n) {
    return a.id_prefix + std::to_string(a.first_index + n) + "@" + a.id_domain;
  };
  auto mint_one = [&](uint64_t n) -> std::shared_ptr<const ike::Credentials> {
    auto c = mint->mint(identity_text(n));
    if (!c) {
      std::fprintf(stderr, "traverse-ike-load: %s\n", c.error().c_str());
      std::exit(1);
    }
    return *c;
  };
  if (mint) {
    const auto t0 = ike::Clock::now();
    creds.reserve(clients);
    for (uint64_t n = 0; n < clients; ++n)
      creds.push_back(mint_one(n));
    std::fprintf(stderr, "ike-load: minted %llu client certificates in %.1f s\n",
                 static_cast<unsigned long long>(clients),
                 std::chrono::duration<double>(ike::Clock::now() - t0).count());
  }

  auto config_for = [&](uint64_t n) {
    auto c = std::make_shared<ike::PeerConfig>(base);
    auto id = ike::parse_identity("email:" + identity_text(n));
    c->local_id = id ? *id : ike::Identity{};
    if (mint) {
      while (creds.size() <= n)
        creds.push_back(mint_one(creds.size()));
      c->credentials = creds[n];
    }
    return std::shared_ptr<const ike::PeerConfig>(std::move(c));
  };
  auto local_for = [&](uint64_t n) {
    return ike::Endpoint(*local, static_cast<uint16_t>(a.first_port + n % a.ports));
  };

  asio::io_context io;
  std::unique_ptr<ike::IkeSaManager> manager;
  transport::UdpTransport udp(io, [&](const ike::Endpoint& l, const ike::Endpoint& r,
                                      ike::ByteView d) { manager->on_datagram(l, r, d); });
  for (unsigned i = 0; i < a.ports; ++i) {
    auto r = udp.listen(*local, static_cast<uint16_t>(a.first_port + i), false);
    if (!r)
      return fail(r.error());
  }
  // A responder that forces UDP encapsulation (charon with kernel-libipsec)
  // fakes a NAT: every IKE SA then floats to our NAT-T port (RFC 7296 2.23).
  if (auto r = udp.listen(*local, a.natt_port, true); !r)
    return fail(r.error());
  bench::LoadHost host(udp, log_level_of(a.log_level));
  ike::IkeSettings settings;
  settings.ike_port = a.responder_port;
  settings.natt_port = a.natt_port;
  settings.retransmit_timeout = std::chrono::milliseconds(a.retransmit_ms);
  settings.retransmit_tries = a.retransmit_tries;
  settings.max_ike_sas = clients + 1000;
  manager = std::make_unique<ike::IkeSaManager>(host, settings);

  bench::LoadReport report;
  report.settings = {{"responder", a.responder},
                     {"responder_port", a.responder_port},
                     {"local", a.local},
                     {"ports", a.ports},
                     {"auth", a.auth},
                     {"ike_proposals", a.ike_proposals},
                     {"esp_proposals", a.esp_proposals},
                     {"hold", a.driver.hold},
                     {"window", a.driver.window},
                     {"setups", a.driver.measure_setups},
                     {"churn", churn},
                     {"retransmit_ms", a.retransmit_ms}};
  bench::LoadDriver driver(io, *manager, a.driver, config_for, local_for);
  driver.run(report);

  report.ike_counters = manager->counters().all();
  report.problems = host.recent_problems();
  report.child_sas_installed = host.counting_ipsec().installed() / 2;
  std::fputs(report.table().c_str(), stdout);
  if (!a.json_path.empty()) {
    std::ofstream out(a.json_path);
    out << report.to_json().dump(2) << "\n";
    if (!out)
      return fail("cannot write " + a.json_path);
  }
  // Leave without deleting: the caller tears the responder down, and 10,000
  // deletes would only measure something else.
  std::fflush(nullptr);
  std::_Exit(report.phases.empty() || report.phases.front().stalled ? 2 : 0);
}
