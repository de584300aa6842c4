// Proposal negotiation (RFC 7296 2.7 and 3.3): our configured proposals
// against the peer's SA payload, in our order of preference, picking one
// transform of each type. Also the conversion between our ProposalSpec and
// the codec's SA payload. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "control/ike/message/message.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

// ProposalTransform::type values, as plain bytes of the codec's enum.
inline constexpr auto kTransformEncr = static_cast<uint8_t>(TransformType::encr);
inline constexpr auto kTransformPrf = static_cast<uint8_t>(TransformType::prf);
inline constexpr auto kTransformInteg = static_cast<uint8_t>(TransformType::integ);
inline constexpr auto kTransformDh = static_cast<uint8_t>(TransformType::dh);
inline constexpr auto kTransformEsn = static_cast<uint8_t>(TransformType::esn);

struct SelectedProposal {
  ProposalSpec chosen;  // exactly one transform of each type present
  uint8_t number = 0;   // the peer's proposal number
  Bytes spi;            // the peer's SPI from that proposal (child SAs, IKE rekey)
};

// First transform of `type` in `spec`, if any.
std::optional<ProposalTransform> transform_of(const ProposalSpec& spec, uint8_t type);
std::vector<ProposalTransform> transforms_of(const ProposalSpec& spec, uint8_t type);

ProposalSpec to_spec(const Proposal& proposal);
// One SA payload proposal from a spec (numbers from 1).
Proposal to_proposal(const ProposalSpec& spec, uint8_t number, ProtocolId protocol, Bytes spi);

// `with_pfs_group`: the group of this exchange's KE payload for child SAs (0 =
// none: DH transforms, if offered, must include NONE).
std::optional<SelectedProposal> select_proposal(const std::vector<ProposalSpec>& ours,
                                                const std::vector<Proposal>& theirs,
                                                ProtocolId protocol);

// The peer's answer must be one transform of each type out of what we offered.
bool acceptable_answer(const std::vector<ProposalSpec>& offered, const ProposalSpec& answer);

// The DH groups our proposals allow, in preference order.
std::vector<uint16_t> dh_groups(const std::vector<ProposalSpec>& specs);

std::string describe(const ProposalSpec& spec);

}  // namespace traverse::ike
