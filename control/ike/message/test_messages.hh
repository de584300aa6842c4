// Sample payloads and messages for the tests, the fuzz seed corpus and the
// scapy interop tool: one of every payload kind with realistic contents.
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/message.hh"

namespace traverse::ike::testing {

Bytes pattern(std::size_t size, uint8_t seed);

// One payload of every kind that may appear in a plain chain (no SK/SKF).
std::vector<Payload> sample_payloads();

// A typical IKE_SA_INIT request (SA, KE, Ni, NAT-D x2, fragmentation, V).
Message sample_ike_sa_init();

// Named whole datagrams, built by build_message.
std::map<std::string, Bytes> sample_datagrams();

}  // namespace traverse::ike::testing
