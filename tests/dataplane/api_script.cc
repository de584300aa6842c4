// Drives a running traverse-dataplane through its API from a script: one
// JSON request per line on stdin, one JSON answer per line on stdout, so
// Python tests can install and remove SAs and policies at the moment they
// choose (between sending packets) and assert on the dataplane's verdicts.
//
//   {"op": "sa_add", "spi": 12288, "direction": "outbound", "cookie": 1,
//    "key": "00..0f", "salt": "0a0b0c0d", "local": "192.0.2.1",
//    "remote": "192.0.2.7", "udp": true, "remote_port": 4500}
//   {"op": "sa_delete", "spi": 12288, "direction": "outbound", "cookie": 1}
//   {"op": "policy_add" | "policy_delete", "selector": "10.8.0.5/32",
//    "spi": 12288, "cookie": 1}
//   {"op": "sa_counters", "spi": 12288, "direction": "outbound", "cookie": 1}
//   {"op": "sa_list"}
//
// Every answer carries "status" (the dataplane's reply status, or the call
// failure) and "detail". AES-128-GCM only: what the tests need.
#include <arpa/inet.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/api/client.hh"

namespace {

using nlohmann::json;
using namespace traverse::api;

bool parse_address(const std::string& text, Address* out) {
  *out = Address{};
  std::string host = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    host = text.substr(0, slash);
    prefix = std::stoi(text.substr(slash + 1));
  }
  if (inet_pton(AF_INET, host.c_str(), out->bytes) == 1) {
    out->version = 4;
    out->prefix_len = static_cast<uint8_t>(prefix < 0 ? 32 : prefix);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), out->bytes) == 1) {
    out->version = 6;
    out->prefix_len = static_cast<uint8_t>(prefix < 0 ? 128 : prefix);
    return true;
  }
  return false;
}

std::size_t parse_hex(const std::string& text, uint8_t* out, std::size_t capacity) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size() && n < capacity; i += 2) {
    out[n++] = static_cast<uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16));
  }
  return n;
}

SaRef sa_ref(const json& request) {
  SaRef ref{};
  ref.spi = request.at("spi").get<uint32_t>();
  ref.direction = request.value("direction", "outbound") == "inbound" ? Direction::inbound
                                                                      : Direction::outbound;
  ref.cookie = request.value("cookie", uint64_t{0});
  return ref;
}

json verdict(const CallResult& r) {
  if (r.call != CallStatus::ok) {
    return {{"status", call_status_name(r.call)}, {"detail", r.error}};
  }
  return {{"status", reply_status_name(r.reply.status)}, {"detail", r.reply.detail}};
}

json sa_add(ApiClient& client, const json& request) {
  SaRecord sa{};
  const SaRef ref = sa_ref(request);
  sa.spi = ref.spi;
  sa.direction = ref.direction;
  sa.cookie = ref.cookie;
  sa.transform = 0;  // crypto::Transform::aes_gcm_128
  sa.backend = 0;    // crypto::Backend::ipsec_mb
  sa.cipher_key_len =
      static_cast<uint8_t>(parse_hex(request.at("key"), sa.cipher_key, sizeof sa.cipher_key));
  sa.salt_len = static_cast<uint8_t>(parse_hex(request.at("salt"), sa.salt, sizeof sa.salt));
  if (!parse_address(request.at("local"), &sa.local) ||
      !parse_address(request.at("remote"), &sa.remote)) {
    return {{"status", "script_error"}, {"detail", "bad local or remote address"}};
  }
  sa.local.prefix_len = 0;
  sa.remote.prefix_len = 0;
  if (request.value("udp", true)) {
    sa.flags = kSaFlagUdpEncap;
    sa.local_port = 4500;
    sa.remote_port = request.value("remote_port", uint16_t{4500});
  }
  sa.df_mode = 2;  // copy
  sa.ttl = 64;
  sa.first_sequence = 1;
  sa.replay_window = ref.direction == Direction::inbound ? 64 : 0;
  return verdict(client.add_sa(sa));
}

json policy(ApiClient& client, const json& request, bool add) {
  PolicyRecord p{};
  if (!parse_address(request.at("selector"), &p.selector)) {
    return {{"status", "script_error"}, {"detail", "bad selector"}};
  }
  p.spi = request.value("spi", uint32_t{0});
  p.cookie = request.value("cookie", uint64_t{0});
  return verdict(add ? client.add_policy(p) : client.delete_policy(p));
}

json sa_counters(ApiClient& client, const json& request) {
  const SaCountersResult r = client.sa_counters(sa_ref(request));
  json out = verdict(r);
  if (r.ok()) {
    out["packets"] = r.counters.packets;
    out["bytes"] = r.counters.bytes;
    out["drops"] = r.counters.drops;
    out["path_mtu"] = r.counters.path_mtu;
    out["cookie"] = r.counters.cookie;
  }
  return out;
}

json sa_list(ApiClient& client) {
  const SaListResult r = client.list_sas();
  json out = verdict(r);
  out["sas"] = json::array();
  for (const SaRef& ref : r.sas) {
    out["sas"].push_back(
        {{"spi", ref.spi},
         {"direction", ref.direction == Direction::inbound ? "inbound" : "outbound"},
         {"cookie", ref.cookie}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s API_SOCKET < requests.jsonl\n", argv[0]);
    return 2;
  }
  ApiClient client;
  if (std::string why = client.connect(argv[1], std::chrono::seconds(10)); !why.empty()) {
    std::fprintf(stderr, "connect: %s\n", why.c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      continue;
    }
    json answer;
    try {
      const json request = json::parse(line);
      const std::string op = request.at("op");
      if (op == "sa_add") {
        answer = sa_add(client, request);
      } else if (op == "sa_delete") {
        answer = verdict(client.delete_sa(sa_ref(request)));
      } else if (op == "policy_add" || op == "policy_delete") {
        answer = policy(client, request, op == "policy_add");
      } else if (op == "sa_counters") {
        answer = sa_counters(client, request);
      } else if (op == "sa_list") {
        answer = sa_list(client);
      } else {
        answer = {{"status", "script_error"}, {"detail", "unknown op " + op}};
      }
    } catch (const std::exception& e) {  // a malformed script line, not the dataplane
      answer = {{"status", "script_error"}, {"detail", e.what()}};
    }
    std::cout << answer.dump() << std::endl;
  }
  return 0;
}
