// Traffic selectors between the codec's TS payload and our ranges, and
// narrowing (RFC 7296 2.9): the responder answers with the intersection of
// what was asked and what its policy allows. Pure functions.
#pragma once

#include <vector>

#include "control/ike/message/message.hh"
#include "control/ike/sa/ike_types.hh"

namespace traverse::ike {

std::vector<TsRange> from_payload(const TsPayload& payload);  // skips malformed entries
TsPayload to_payload(const std::vector<TsRange>& ranges);

// Every non-empty intersection of a requested range with an allowed one.
std::vector<TsRange> narrow(const std::vector<TsRange>& requested,
                            const std::vector<TsRange>& allowed);

// True if every range of `inner` lies inside some range of `outer`.
bool covered(const std::vector<TsRange>& inner, const std::vector<TsRange>& outer);

std::string describe(const std::vector<TsRange>& ranges);

}  // namespace traverse::ike
