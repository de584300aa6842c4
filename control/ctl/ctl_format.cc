#include "control/ctl/ctl_format.hh"

#include <algorithm>
#include <sstream>

namespace traverse::ctl {
namespace {

using json = nlohmann::json;

std::string scalar(const json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_boolean()) {
    return value.get<bool>() ? "yes" : "no";
  }
  if (value.is_null()) {
    return "-";
  }
  if (value.is_array()) {
    std::string out;
    for (const json& item : value) {
      out += (out.empty() ? "" : ",") + scalar(item);
    }
    return out.empty() ? "-" : out;
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The array under key, or an empty one.
const json& list(const json& object, const std::string& key) {
  static const json empty = json::array();
  if (!object.is_object()) {
    return empty;
  }
  const auto found = object.find(key);
  return found != object.end() && found->is_array() ? *found : empty;
}

std::string format_status(const json& r) {
  std::ostringstream out;
  out << "version     " << field(r, "version") << "\n"
      << "uptime      " << field(r, "uptime_s") << " s\n"
      << "IKE SAs     " << field(r, "ike_sas") << " (" << field(r, "half_open") << " half-open)\n"
      << "child SAs   " << field(r, "child_sas") << "\n";
  const json dataplane = r.is_object() && r.contains("dataplane") ? r["dataplane"] : json();
  out << "dataplane   "
      << (field(dataplane, "connected") == "yes" ? "connected, pid " + field(dataplane, "pid")
                                                 : std::string("not connected"))
      << "\n";
  return out.str();
}

std::string format_sas(const json& r) {
  const json& sas = list(r, "ike_sas");
  if (sas.empty()) {
    return "no IKE SAs\n";
  }
  std::string out;
  for (const json& sa : sas) {
    out += "IKE SA " + field(sa, "id") + " " + field(sa, "name") + ": " + field(sa, "state") +
           (field(sa, "initiator") == "yes" ? ", initiator" : ", responder") + "\n";
    out += "  " + field(sa, "local") + " [" + field(sa, "local_id") + "] <-> " +
           field(sa, "remote") + " [" + field(sa, "remote_id") + "]\n";
    out += "  encap " + field(sa, "encap") + ", NAT local " + field(sa, "nat_local") +
           ", NAT remote " + field(sa, "nat_remote") + ", SPIs " + field(sa, "spi_i") + "_i " +
           field(sa, "spi_r") + "_r\n";
    out += "  " + field(sa, "algorithms") + ", established " + field(sa, "established_s") +
           " s ago, rekey in " + field(sa, "rekey_in_s") + " s, virtual IPs " +
           field(sa, "virtual_ips") + "\n";
    const json& children = list(sa, "children");
    if (children.empty()) {
      continue;
    }
    TextTable table({"  CHILD", "NAME", "STATE", "SPI IN", "SPI OUT", "ALGORITHMS", "ENCAP",
                     "LOCAL TS", "REMOTE TS", "BYTES IN", "BYTES OUT", "PKTS IN", "PKTS OUT", "MTU",
                     "REKEY S"});
    for (const json& c : children) {
      table.add({"  " + field(c, "id"), field(c, "name"), field(c, "state"), field(c, "spi_in"),
                 field(c, "spi_out"), field(c, "algorithms"), field(c, "encap"),
                 field(c, "local_ts"), field(c, "remote_ts"), field(c, "bytes_in"),
                 field(c, "bytes_out"), field(c, "packets_in"), field(c, "packets_out"),
                 field(c, "path_mtu"), field(c, "rekey_in_s")});
    }
    out += table.render();
  }
  return out;
}

std::string format_pools(const json& r) {
  TextTable table({"POOL", "ADDRESSES", "SIZE", "ONLINE", "OFFLINE"});
  for (const json& p : list(r, "pools")) {
    table.add({field(p, "name"), field(p, "addresses"), field(p, "size"), field(p, "online"),
               field(p, "offline")});
  }
  return table.render();
}

std::string format_leases(const json& r) {
  TextTable table({"POOL", "ADDRESS", "IDENTITY", "STATE", "EXPIRES IN"});
  for (const json& l : list(r, "leases")) {
    const bool online = field(l, "online") == "yes";
    table.add({field(l, "pool"), field(l, "address"), field(l, "identity"),
               online ? "online" : "offline", online ? "-" : field(l, "expires_in_s") + " s"});
  }
  return table.render();
}

std::string format_counters(const json& r) {
  const json counters = r.is_object() && r.contains("counters") ? r["counters"] : json();
  TextTable table({"COUNTER", "VALUE"});
  if (counters.is_object()) {
    for (const auto& [name, value] : counters.items()) {
      table.add({name, scalar(value)});
    }
  }
  return table.render();
}

std::string format_help(const json& r) {
  TextTable table({"COMMAND", "DESCRIPTION"});
  for (const json& c : list(r, "commands")) {
    table.add({field(c, "name"), field(c, "help")});
  }
  return table.render();
}

}  // namespace

std::string TextTable::render() const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) {
    widths[i] = headers_[i].size();
    for (const auto& row : rows_) {
      if (i < row.size()) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      out += cell;
      if (i + 1 < headers_.size()) {
        out += std::string(widths[i] - cell.size() + 2, ' ');
      }
    }
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
    return out + "\n";
  };
  std::string out = line(headers_);
  for (const auto& row : rows_) {
    out += line(row);
  }
  return out;
}

std::string field(const json& object, const std::string& key) {
  if (!object.is_object()) {
    return "-";
  }
  const auto found = object.find(key);
  return found == object.end() ? "-" : scalar(*found);
}

std::string format_result(const std::string& command, const json& result) {
  if (command == "status") {
    return format_status(result);
  }
  if (command == "list-sas") {
    return format_sas(result);
  }
  if (command == "pools") {
    return format_pools(result);
  }
  if (command == "leases") {
    return format_leases(result);
  }
  if (command == "counters") {
    return format_counters(result);
  }
  if (command == "help") {
    return format_help(result);
  }
  if (result.is_object() && result.contains("message") && result["message"].is_string()) {
    return result["message"].get<std::string>() + "\n";
  }
  return result.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace traverse::ctl
