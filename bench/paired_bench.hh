// Paired benchmarks for the ipsec-mb targets: ESP, the crypto driver's session
// and the raw library in rotation, about 64 packets each, so that all three
// see the same moment of a busy machine. Reports each one's median block and
// the medians of the per-rotation differences. Names: pair/DIR/T/ipsec-mb/SIZE
// and pair_udp/... (ESP in UDP), sizes 64 and 1420.
#pragma once

namespace traverse::bench {

void register_paired_benchmarks();

}  // namespace traverse::bench
