// Test tool for interop checks with independent implementations (scapy):
//   ike_message_tool parse     reads a datagram as hex on stdin, prints it as JSON
//   ike_message_tool samples   prints every sample datagram as {name: {hex, message}}
//   ike_message_tool constants prints the named notify and config attribute numbers
// Exit status 1 and {"error": ...} when the datagram does not parse.
#include <cctype>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "control/ike/message/parser.hh"
#include "control/ike/message/test_messages.hh"

namespace traverse::ike {
namespace {

using nlohmann::json;

std::string hex(ByteView data) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

bool unhex(const std::string& text, Bytes& out) {
  std::string digits;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      digits.push_back(c);
    } else if (std::isspace(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  if (digits.size() % 2 != 0) {
    return false;
  }
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return true;
}

json describe_body(const Payload& p) {
  json j;
  if (const auto* sa = p.get<SaPayload>()) {
    j["proposals"] = json::array();
    for (const Proposal& prop : sa->proposals) {
      json transforms = json::array();
      for (const Transform& t : prop.transforms) {
        transforms.push_back({{"type", static_cast<int>(t.type)},
                              {"id", t.id},
                              {"key_length", t.key_length},
                              {"other_attributes", hex(t.other_attributes)}});
      }
      j["proposals"].push_back({{"number", prop.number},
                                {"protocol", static_cast<int>(prop.protocol)},
                                {"spi", hex(prop.spi)},
                                {"transforms", transforms}});
    }
  } else if (const auto* ke = p.get<KePayload>()) {
    j = {{"group", ke->group}, {"data", hex(ke->data)}};
  } else if (const auto* id = p.get<IdPayload>()) {
    j = {{"id_type", static_cast<int>(id->type)}, {"data", hex(id->data)}};
  } else if (const auto* cert = p.get<CertPayload>()) {
    j = {{"encoding", static_cast<int>(cert->encoding)}, {"data", hex(cert->data)}};
  } else if (const auto* req = p.get<CertReqPayload>()) {
    j = {{"encoding", static_cast<int>(req->encoding)}, {"data", hex(req->data)}};
  } else if (const auto* auth = p.get<AuthPayload>()) {
    j = {{"method", static_cast<int>(auth->method)}, {"data", hex(auth->data)}};
  } else if (const auto* nonce = p.get<NoncePayload>()) {
    j = {{"data", hex(nonce->data)}};
  } else if (const auto* n = p.get<NotifyPayload>()) {
    j = {{"protocol", static_cast<int>(n->protocol)},
         {"spi", hex(n->spi)},
         {"notify_type", static_cast<int>(n->type)},
         {"data", hex(n->data)}};
  } else if (const auto* d = p.get<DeletePayload>()) {
    json spis = json::array();
    for (const Bytes& spi : d->spis) {
      spis.push_back(hex(spi));
    }
    j = {{"protocol", static_cast<int>(d->protocol)}, {"spi_size", d->spi_size}, {"spis", spis}};
  } else if (const auto* v = p.get<VendorIdPayload>()) {
    j = {{"data", hex(v->data)}};
  } else if (const auto* ts = p.get<TsPayload>()) {
    j["selectors"] = json::array();
    for (const TrafficSelector& s : ts->selectors) {
      j["selectors"].push_back({{"ts_type", static_cast<int>(s.type)},
                                {"ip_protocol", s.ip_protocol},
                                {"start_port", s.start_port},
                                {"end_port", s.end_port},
                                {"start_address", hex(s.start_address)},
                                {"end_address", hex(s.end_address)}});
    }
  } else if (const auto* cp = p.get<CpPayload>()) {
    json attributes = json::array();
    for (const ConfigAttr& a : cp->attributes) {
      attributes.push_back({{"type", static_cast<int>(a.type)}, {"value", hex(a.value)}});
    }
    j = {{"config_type", static_cast<int>(cp->config_type)}, {"attributes", attributes}};
  } else if (const auto* eap = p.get<EapPayload>()) {
    j = {{"data", hex(eap->data)}};
  } else if (const auto* sk = p.get<EncryptedPayload>()) {
    j = {{"first_inner", static_cast<int>(sk->first_inner)}, {"body", hex(sk->body)}};
  } else if (const auto* skf = p.get<EncryptedFragment>()) {
    j = {{"number", skf->number},
         {"total", skf->total},
         {"first_inner", static_cast<int>(skf->first_inner)},
         {"body", hex(skf->body)}};
  } else if (const auto* u = p.get<UnknownPayload>()) {
    j = {{"body", hex(u->body)}};
  }
  j["type"] = static_cast<int>(p.type);
  j["critical"] = p.critical;
  return j;
}

json describe(const Message& m) {
  const Header& h = m.header;
  json payloads = json::array();
  for (const Payload& p : m.payloads) {
    payloads.push_back(describe_body(p));
  }
  char spi_i[17];
  char spi_r[17];
  std::snprintf(spi_i, sizeof spi_i, "%016llx", static_cast<unsigned long long>(h.spi_i));
  std::snprintf(spi_r, sizeof spi_r, "%016llx", static_cast<unsigned long long>(h.spi_r));
  return {{"spi_i", spi_i},
          {"spi_r", spi_r},
          {"next_payload", static_cast<int>(h.next_payload)},
          {"major_version", h.major_version},
          {"minor_version", h.minor_version},
          {"exchange", static_cast<int>(h.exchange)},
          {"flags", h.flags},
          {"message_id", h.message_id},
          {"length", h.length},
          {"payloads", payloads}};
}

int run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "parse") {
    std::string input;
    for (std::string line; std::getline(std::cin, line);) {
      input += line;
    }
    Bytes datagram;
    if (!unhex(input, datagram)) {
      std::cout << json{{"error", "input is not hex"}}.dump() << "\n";
      return 2;
    }
    auto parsed = parse_message(datagram);
    if (!parsed) {
      std::cout << json{{"error", parsed.error().describe()},
                        {"notify", static_cast<int>(parsed.error().notify())}}
                       .dump()
                << "\n";
      return 1;
    }
    std::cout << describe(parsed.value()).dump(1) << "\n";
    return 0;
  }
  if (command == "samples") {
    json all = json::object();
    for (const auto& [name, datagram] : testing::sample_datagrams()) {
      auto parsed = parse_message(datagram);
      if (!parsed) {
        std::cerr << name << ": " << parsed.error().describe() << "\n";
        return 1;
      }
      all[name] = {{"hex", hex(datagram)}, {"message", describe(parsed.value())}};
    }
    std::cout << all.dump(1) << "\n";
    return 0;
  }
  if (command == "constants") {
    // Every named value, so the IANA numbers can be checked against scapy's tables.
    json notify = json::object();
    for (unsigned v = 0; v <= 0xffff; ++v) {
      const std::string name = to_string(static_cast<NotifyType>(v));
      if (name != std::to_string(v)) {
        notify[std::to_string(v)] = name;
      }
    }
    json attributes = json::object();
    for (unsigned v = 0; v <= 0x7fff; ++v) {
      const std::string name = to_string(static_cast<ConfigAttributeType>(v));
      if (name != std::to_string(v)) {
        attributes[std::to_string(v)] = name;
      }
    }
    std::cout << json{{"notify", notify}, {"config_attribute", attributes}}.dump(1) << "\n";
    return 0;
  }
  std::cerr << "usage: ike_message_tool parse|samples|constants\n";
  return 2;
}

}  // namespace
}  // namespace traverse::ike

int main(int argc, char** argv) {
  return traverse::ike::run(argc, argv);
}
