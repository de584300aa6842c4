// The neighbor subsystem in one include for the engine: frame parsing and
// building (arp_nd.hh, pure, any thread) and the per-port cache
// (neighbor_table.hh: lock-free lookups for workers, one control-thread writer).
#pragma once

#include "dataplane/engine/neighbor/arp_nd.hh"
#include "dataplane/engine/neighbor/neighbor_table.hh"
