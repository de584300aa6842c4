// The control socket commands of the gateway (traversectl talks to these):
// status, SA listing, initiate/terminate/rekey, pools and leases, counters,
// reload and log level. Results follow the shapes traversectl renders.
#include <chrono>
#include <cstring>

#include "control/gateway/gateway_daemon.hh"
#include "control/gateway/peer_config_builder.hh"
#include "control/ike/sa/proposal_select.hh"
#include "control/ike/sa/traffic_selectors.hh"

namespace traverse::gateway {
namespace {

using nlohmann::json;

std::string endpoint_text(const ike::Endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}

std::string spi_hex(uint64_t spi, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(spi));
  return buf;
}

int64_t seconds_until(ike::TimePoint when, ike::TimePoint now) {
  if (when == ike::TimePoint{})
    return -1;
  return std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
}

json ranges(const std::vector<ike::TsRange>& list) {
  json out = json::array();
  for (const auto& r : list)
    out.push_back(r.to_string());
  return out;
}

Expected<uint64_t, std::string> id_arg(const json& args, const char* key) {
  if (!args.is_object() || !args.contains(key))
    return unexpected(std::string("missing ") + key);
  const json& v = args.at(key);
  if (v.is_number_unsigned())
    return v.get<uint64_t>();
  if (v.is_string()) {
    try {
      return static_cast<uint64_t>(std::stoull(v.get<std::string>()));
    } catch (...) {
    }
  }
  return unexpected(std::string(key) + " must be a number");
}

}  // namespace

json GatewayDaemon::status_json() const {
  return {
      {"version", "0.1.0"},
      {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(now() - started_).count()},
      {"ike_sas", manager_->ike_sa_count()},
      {"child_sas", manager_->child_sa_count()},
      {"half_open", manager_->half_open_count()},
      {"dataplane",
       {{"connected", dataplane_->connected()},
        {"pid", dataplane_->dataplane_pid()},
        {"restarts", dataplane_restarts_}}},
  };
}

json GatewayDaemon::list_sas_json() {
  const ike::TimePoint t = now();
  json list = json::array();
  std::vector<uint64_t> ids;
  manager_->for_each([&](const ike::IkeSa& sa) { ids.push_back(sa.id()); });
  for (uint64_t id : ids) {
    ike::IkeSa* sa = manager_->find(id);
    if (sa == nullptr)
      continue;
    if (dataplane_->connected())
      sa->refresh_counters();
    json children = json::array();
    for (const auto& [cid, c] : sa->children()) {
      children.push_back({
          {"id", cid},
          {"name", c.name},
          {"state", ike::to_string(c.state)},
          {"spi_in", spi_hex(c.spi_in, 8)},
          {"spi_out", spi_hex(c.spi_out, 8)},
          {"algorithms", ike::describe(c.proposal)},
          {"encap", c.encap},
          {"local_ts", ranges(c.local_ts)},
          {"remote_ts", ranges(c.remote_ts)},
          {"bytes_in", c.in_counters.bytes},
          {"bytes_out", c.out_counters.bytes},
          {"packets_in", c.in_counters.packets},
          {"packets_out", c.out_counters.packets},
          {"path_mtu", c.out_counters.path_mtu},
          {"rekey_in_s", seconds_until(c.rekey_at, t)},
      });
    }
    json vips = json::array();
    for (const auto& a : sa->virtual_ips())
      vips.push_back(a.to_string());
    list.push_back({
        {"id", sa->id()},
        {"name", sa->config() ? sa->config()->name : ""},
        {"state", ike::to_string(sa->state())},
        {"initiator", sa->role() == ike::Role::initiator},
        {"local", endpoint_text(sa->local())},
        {"remote", endpoint_text(sa->remote())},
        {"local_id", sa->local_id_text()},
        {"remote_id", sa->remote_id_text()},
        {"nat_local", sa->local_behind_nat()},
        {"nat_remote", sa->remote_behind_nat()},
        {"encap", sa->encap()},
        {"spi_i", spi_hex(sa->spi_i(), 16)},
        {"spi_r", spi_hex(sa->spi_r(), 16)},
        {"algorithms", ike::describe(sa->proposal())},
        {"established_s",
         sa->established_at() == ike::TimePoint{}
             ? -1
             : std::chrono::duration_cast<std::chrono::seconds>(t - sa->established_at()).count()},
        {"rekey_in_s", seconds_until(sa->rekey_at(), t)},
        {"virtual_ips", vips},
        {"children", children},
    });
  }
  return {{"ike_sas", list}};
}

json GatewayDaemon::pools_json() const {
  json list = json::array();
  for (const auto& [name, p] : pools_) {
    list.push_back({{"name", name},
                    {"addresses", p.settings.addresses.to_string()},
                    {"size", p.pool->size()},
                    {"online", p.pool->online_count()},
                    {"offline", p.pool->lease_count() - p.pool->online_count()}});
  }
  return {{"pools", list}};
}

json GatewayDaemon::leases_json() const {
  const auto t = now();
  json list = json::array();
  for (const auto& [name, p] : pools_) {
    for (const LeaseInfo& l : p.pool->leases()) {
      list.push_back(
          {{"pool", name},
           {"address", l.address.to_string()},
           {"identity", l.identity},
           {"online", l.online},
           {"expires_in_s",
            l.online
                ? -1
                : std::chrono::duration_cast<std::chrono::seconds>(l.expires_at - t).count()}});
    }
  }
  return {{"leases", list}};
}

json GatewayDaemon::counters_json() const {
  json c = json::object();
  for (const auto& [name, value] : manager_->counters().all())
    c[name] = value;
  const auto& u = udp_->counters();
  c["udp_received"] = u.received;
  c["udp_sent"] = u.sent;
  c["udp_keepalives_received"] = u.keepalives;
  c["udp_not_ike"] = u.not_ike;
  c["udp_send_errors"] = u.send_errors;
  c["udp_no_socket"] = u.no_socket;
  if (dataplane_->connected()) {
    // The dataplane's port and drop-reason counters, for one place to look.
    auto dp = dataplane_->global_counters();
    for (const auto& named : dp.counters) {
      c["dataplane_" + std::string(named.name, strnlen(named.name, sizeof named.name))] =
          named.value;
    }
  }
  const json ctl_counters = ctl_->counters_json();
  for (const auto& item : ctl_counters.items())
    c["ctl_" + item.key()] = item.value();
  return {{"counters", c}};
}

Expected<json, std::string> GatewayDaemon::reload() {
  auto config = load_gateway_config(config_path_);
  if (!config)
    return unexpected(config.error());
  std::string note;
  if (!(config->control.listen == config_.control.listen) ||
      config->control.ike_port != config_.control.ike_port ||
      config->control.natt_port != config_.control.natt_port ||
      config->control.control_socket != config_.control.control_socket ||
      config->dataplane_api_socket != config_.dataplane_api_socket) {
    note = " (listen addresses, ports and sockets take effect after a restart)";
  }
  auto r = apply(std::move(*config), false);
  if (!r)
    return unexpected(r.error());
  return json{{"message", "reloaded: " + std::to_string(peers_.size()) + " connection(s), " +
                              std::to_string(pools_.size()) + " pool(s)" + note}};
}

void GatewayDaemon::register_commands() {
  ctl_->register_command(
      "status", [this](const json&) -> Expected<json, std::string> { return status_json(); },
      "gateway status");
  ctl_->register_command(
      "list-sas", [this](const json&) -> Expected<json, std::string> { return list_sas_json(); },
      "IKE and child SAs");
  ctl_->register_command(
      "pools", [this](const json&) -> Expected<json, std::string> { return pools_json(); },
      "Office Mode pools");
  ctl_->register_command(
      "leases", [this](const json&) -> Expected<json, std::string> { return leases_json(); },
      "Office Mode leases");
  ctl_->register_command(
      "counters", [this](const json&) -> Expected<json, std::string> { return counters_json(); },
      "event and drop counters");
  ctl_->register_command(
      "reload", [this](const json&) { return reload(); }, "re-read the configuration");
  ctl_->register_command(
      "log-level",
      [this](const json& args) -> Expected<json, std::string> {
        std::string level = args.is_object() ? args.value("level", "") : "";
        static const std::map<std::string, ike::LogLevel> levels = {
            {"error", ike::LogLevel::error},
            {"warning", ike::LogLevel::warning},
            {"info", ike::LogLevel::info},
            {"debug", ike::LogLevel::debug}};
        auto it = levels.find(level);
        if (it == levels.end())
          return unexpected("level must be error, warning, info or debug");
        level_ = it->second;
        return json{{"message", "log level " + level}};
      },
      "set the log level");
  ctl_->register_command(
      "initiate",
      [this](const json& args) -> Expected<json, std::string> {
        std::string name = args.is_object() ? args.value("name", "") : "";
        for (const auto& p : peers_) {
          if (p->name != name)
            continue;
          if (!p->remote)
            return unexpected("connection '" + name + "' has no remote address");
          asio::ip::address local = config_.control.listen.empty()
                                        ? asio::ip::address(asio::ip::address_v4::any())
                                        : to_asio(config_.control.listen.front());
          uint64_t id = manager_->initiate(p, ike::Endpoint(local, config_.control.ike_port));
          return json{{"message", "initiating IKE SA #" + std::to_string(id)}, {"id", id}};
        }
        return unexpected("no connection named '" + name + "'");
      },
      "initiate a connection");
  ctl_->register_command(
      "terminate",
      [this](const json& args) -> Expected<json, std::string> {
        if (args.is_object() && args.contains("ike")) {
          auto id = id_arg(args, "ike");
          if (!id)
            return unexpected(id.error());
          if (!manager_->terminate_ike(*id))
            return unexpected("no IKE SA #" + std::to_string(*id));
          return json{{"message", "deleting IKE SA #" + std::to_string(*id)}};
        }
        if (args.is_object() && args.contains("child")) {
          auto id = id_arg(args, "child");
          if (!id)
            return unexpected(id.error());
          if (!manager_->terminate_child(*id))
            return unexpected("no child SA #" + std::to_string(*id));
          return json{{"message", "deleting child SA #" + std::to_string(*id)}};
        }
        if (args.is_object() && args.contains("peer") && args.at("peer").is_string()) {
          std::size_t n = manager_->terminate_peer(args.at("peer").get<std::string>());
          if (n == 0)
            return unexpected(std::string("no IKE SA with that peer identity"));
          return json{{"message", "deleting " + std::to_string(n) + " IKE SA(s)"}};
        }
        return unexpected(std::string("give ike, child or peer"));
      },
      "delete an IKE SA, a child SA or a peer's SAs");
  ctl_->register_command(
      "rekey",
      [this](const json& args) -> Expected<json, std::string> {
        if (args.is_object() && args.contains("ike")) {
          auto id = id_arg(args, "ike");
          if (!id)
            return unexpected(id.error());
          if (!manager_->rekey_ike(*id))
            return unexpected("no established IKE SA #" + std::to_string(*id));
          return json{{"message", "rekeying IKE SA #" + std::to_string(*id)}};
        }
        if (args.is_object() && args.contains("child")) {
          auto id = id_arg(args, "child");
          if (!id)
            return unexpected(id.error());
          if (!manager_->rekey_child(*id))
            return unexpected("no child SA #" + std::to_string(*id));
          return json{{"message", "rekeying child SA #" + std::to_string(*id)}};
        }
        return unexpected(std::string("give ike or child"));
      },
      "rekey an IKE SA or a child SA");
}

}  // namespace traverse::gateway
