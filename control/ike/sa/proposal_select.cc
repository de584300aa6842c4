#include "control/ike/sa/proposal_select.hh"

#include <algorithm>

namespace traverse::ike {
namespace {

// ESP without an ESN transform in our config means "no ESN" (RFC 7296 3.3.2:
// the transform type is mandatory in ESP proposals, so spell it out).
std::vector<ProposalTransform> effective(const ProposalSpec& spec, uint8_t type,
                                         ProtocolId protocol) {
  auto list = transforms_of(spec, type);
  if (list.empty() && type == kTransformEsn && protocol == ProtocolId::esp) {
    list.push_back({kTransformEsn, 0, 0});
  }
  return list;
}

}  // namespace

std::optional<ProposalTransform> transform_of(const ProposalSpec& spec, uint8_t type) {
  for (const auto& t : spec.transforms) {
    if (t.type == type)
      return t;
  }
  return std::nullopt;
}

std::vector<ProposalTransform> transforms_of(const ProposalSpec& spec, uint8_t type) {
  std::vector<ProposalTransform> out;
  for (const auto& t : spec.transforms) {
    if (t.type == type)
      out.push_back(t);
  }
  return out;
}

ProposalSpec to_spec(const Proposal& proposal) {
  ProposalSpec spec;
  for (const auto& t : proposal.transforms) {
    spec.transforms.push_back(
        {static_cast<uint8_t>(t.type), static_cast<uint16_t>(t.id), t.key_length});
  }
  return spec;
}

Proposal to_proposal(const ProposalSpec& spec, uint8_t number, ProtocolId protocol, Bytes spi) {
  Proposal p;
  p.number = number;
  p.protocol = protocol;
  p.spi = std::move(spi);
  for (uint8_t type :
       {kTransformEncr, kTransformPrf, kTransformInteg, kTransformDh, kTransformEsn}) {
    for (const auto& t : effective(spec, type, protocol)) {
      Transform tr;
      tr.type = static_cast<TransformType>(t.type);
      tr.id = t.id;
      tr.key_length = t.key_bits;
      p.transforms.push_back(tr);
    }
  }
  return p;
}

std::optional<SelectedProposal> select_proposal(const std::vector<ProposalSpec>& ours,
                                                const std::vector<Proposal>& theirs,
                                                ProtocolId protocol) {
  for (const ProposalSpec& mine : ours) {
    for (const Proposal& offer : theirs) {
      if (offer.protocol != protocol)
        continue;
      ProposalSpec their = to_spec(offer);
      ProposalSpec chosen;
      bool ok = true;
      for (uint8_t type :
           {kTransformEncr, kTransformPrf, kTransformInteg, kTransformDh, kTransformEsn}) {
        auto a = effective(mine, type, protocol);
        auto b = transforms_of(their, type);
        if (a.empty() && b.empty())
          continue;
        if (a.empty()) {
          // We want none of this type: acceptable only if they offer NONE (0).
          bool none = std::any_of(b.begin(), b.end(), [](const auto& t) { return t.id == 0; });
          if (!none) {
            ok = false;
            break;
          }
          continue;
        }
        if (b.empty()) {
          // They omit a type we list: fine only if ours allows NONE, or it is
          // integrity/PRF that the AEAD cipher makes unnecessary... be strict.
          bool none = std::any_of(a.begin(), a.end(), [](const auto& t) { return t.id == 0; });
          if (!none) {
            ok = false;
            break;
          }
          continue;
        }
        auto hit = std::find_if(a.begin(), a.end(), [&](const ProposalTransform& t) {
          return std::find(b.begin(), b.end(), t) != b.end();
        });
        if (hit == a.end()) {
          ok = false;
          break;
        }
        if (hit->id != 0 || type == kTransformEsn)
          chosen.transforms.push_back(*hit);
      }
      if (ok)
        return SelectedProposal{std::move(chosen), offer.number, offer.spi};
    }
  }
  return std::nullopt;
}

bool acceptable_answer(const std::vector<ProposalSpec>& offered, const ProposalSpec& answer) {
  for (const ProposalSpec& mine : offered) {
    bool ok = true;
    for (uint8_t type :
         {kTransformEncr, kTransformPrf, kTransformInteg, kTransformDh, kTransformEsn}) {
      auto got = transforms_of(answer, type);
      if (got.size() > 1)
        return false;
      auto allowed = transforms_of(mine, type);
      if (got.empty())
        continue;
      if (allowed.empty()) {
        if (!(type == kTransformEsn && got[0].id == 0) && got[0].id != 0) {
          ok = false;
          break;
        }
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), got[0]) == allowed.end()) {
        ok = false;
        break;
      }
    }
    if (ok && transform_of(answer, kTransformEncr))
      return true;
  }
  return false;
}

std::vector<uint16_t> dh_groups(const std::vector<ProposalSpec>& specs) {
  std::vector<uint16_t> out;
  for (const auto& s : specs) {
    for (const auto& t : transforms_of(s, kTransformDh)) {
      if (t.id != 0 && std::find(out.begin(), out.end(), t.id) == out.end())
        out.push_back(t.id);
    }
  }
  return out;
}

std::string describe(const ProposalSpec& spec) {
  std::string out;
  for (const auto& t : spec.transforms) {
    if (!out.empty())
      out += "/";
    switch (t.type) {
      case kTransformEncr:
        out += t.id == 20   ? "AES_GCM_16"
               : t.id == 12 ? "AES_CBC"
               : t.id == 28 ? "CHACHA20_POLY1305"
                            : "ENCR_" + std::to_string(t.id);
        if (t.key_bits != 0)
          out += "_" + std::to_string(t.key_bits);
        break;
      case kTransformPrf:
        out += "PRF_HMAC_SHA2_" + std::to_string(t.id == 5 ? 256 : t.id == 6 ? 384 : 512);
        break;
      case kTransformInteg:
        out += t.id == 12   ? "HMAC_SHA2_256_128"
               : t.id == 13 ? "HMAC_SHA2_384_192"
               : t.id == 14 ? "HMAC_SHA2_512_256"
                            : "INTEG_" + std::to_string(t.id);
        break;
      case kTransformDh:
        out += t.id == 14   ? "MODP_2048"
               : t.id == 15 ? "MODP_3072"
               : t.id == 19 ? "ECP_256"
               : t.id == 20 ? "ECP_384"
               : t.id == 21 ? "ECP_521"
               : t.id == 31 ? "CURVE_25519"
                            : "DH_" + std::to_string(t.id);
        break;
      case kTransformEsn:
        out += t.id == 1 ? "ESN" : "NO_ESN";
        break;
      default:
        out += "?";
    }
  }
  return out;
}

}  // namespace traverse::ike
