// Encoding of payload bodies. Substructure lengths are written after their
// contents; any that would not fit its field makes the encode fail.
#include <limits>
#include <type_traits>

#include "control/ike/message/payload_codec.hh"
#include "control/ike/message/wire.hh"

namespace traverse::ike::codec {
namespace {

using wire::patch_u16;
using wire::put_bytes;
using wire::put_u16;
using wire::put_u8;

constexpr std::size_t max_u16 = std::numeric_limits<uint16_t>::max();
constexpr std::size_t max_u8 = std::numeric_limits<uint8_t>::max();

// Writes the 16-bit length of the structure that started at `start`.
bool close_length(Bytes& out, std::size_t start, std::size_t length_at) {
  const std::size_t length = out.size() - start;
  if (length > max_u16) {
    return false;
  }
  patch_u16(out, length_at, static_cast<uint16_t>(length));
  return true;
}

bool encode(const SaPayload& sa, Bytes& out) {
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    const Proposal& p = sa.proposals[i];
    if (p.spi.size() > max_u8 || p.transforms.size() > max_u8) {
      return false;
    }
    const std::size_t start = out.size();
    put_u8(out, i + 1 == sa.proposals.size() ? 0 : 2);
    put_u8(out, 0);
    put_u16(out, 0);
    put_u8(out, p.number);
    put_u8(out, static_cast<uint8_t>(p.protocol));
    put_u8(out, static_cast<uint8_t>(p.spi.size()));
    put_u8(out, static_cast<uint8_t>(p.transforms.size()));
    put_bytes(out, p.spi);
    for (std::size_t j = 0; j < p.transforms.size(); ++j) {
      const Transform& t = p.transforms[j];
      const std::size_t t_start = out.size();
      put_u8(out, j + 1 == p.transforms.size() ? 0 : 3);
      put_u8(out, 0);
      put_u16(out, 0);
      put_u8(out, static_cast<uint8_t>(t.type));
      put_u8(out, 0);
      put_u16(out, t.id);
      if (t.key_length != 0) {
        put_u16(out, 0x8000 | transform_attribute_key_length);
        put_u16(out, t.key_length);
      }
      put_bytes(out, t.other_attributes);
      if (!close_length(out, t_start, t_start + 2)) {
        return false;
      }
    }
    if (!close_length(out, start, start + 2)) {
      return false;
    }
  }
  return true;
}

bool encode(const KePayload& ke, Bytes& out) {
  put_u16(out, ke.group);
  put_u16(out, 0);
  put_bytes(out, ke.data);
  return true;
}

bool encode(const IdPayload& id, Bytes& out) {
  put_bytes(out, id_payload_body(id));
  return true;
}

bool encode(const CertPayload& cert, Bytes& out) {
  put_u8(out, static_cast<uint8_t>(cert.encoding));
  put_bytes(out, cert.data);
  return true;
}

bool encode(const CertReqPayload& req, Bytes& out) {
  put_u8(out, static_cast<uint8_t>(req.encoding));
  put_bytes(out, req.data);
  return true;
}

bool encode(const AuthPayload& auth, Bytes& out) {
  put_u8(out, static_cast<uint8_t>(auth.method));
  put_u8(out, 0);
  put_u16(out, 0);
  put_bytes(out, auth.data);
  return true;
}

bool encode(const NotifyPayload& n, Bytes& out) {
  if (n.spi.size() > max_u8) {
    return false;
  }
  put_u8(out, static_cast<uint8_t>(n.protocol));
  put_u8(out, static_cast<uint8_t>(n.spi.size()));
  put_u16(out, static_cast<uint16_t>(n.type));
  put_bytes(out, n.spi);
  put_bytes(out, n.data);
  return true;
}

bool encode(const DeletePayload& d, Bytes& out) {
  if (d.spis.size() > max_u16) {
    return false;
  }
  put_u8(out, static_cast<uint8_t>(d.protocol));
  put_u8(out, d.spi_size);
  put_u16(out, static_cast<uint16_t>(d.spis.size()));
  for (const Bytes& spi : d.spis) {
    if (spi.size() != d.spi_size) {
      return false;
    }
    put_bytes(out, spi);
  }
  return true;
}

bool encode(const TsPayload& ts, Bytes& out) {
  if (ts.selectors.size() > max_u8) {
    return false;
  }
  put_u8(out, static_cast<uint8_t>(ts.selectors.size()));
  put_u8(out, 0);
  put_u16(out, 0);
  for (const TrafficSelector& s : ts.selectors) {
    const std::size_t start = out.size();
    put_u8(out, static_cast<uint8_t>(s.type));
    put_u8(out, s.ip_protocol);
    put_u16(out, 0);
    put_u16(out, s.start_port);
    put_u16(out, s.end_port);
    put_bytes(out, s.start_address);
    put_bytes(out, s.end_address);
    if (!close_length(out, start, start + 2)) {
      return false;
    }
  }
  return true;
}

bool encode(const CpPayload& cp, Bytes& out) {
  put_u8(out, static_cast<uint8_t>(cp.config_type));
  put_u8(out, 0);
  put_u16(out, 0);
  for (const ConfigAttr& a : cp.attributes) {
    if (a.value.size() > max_u16) {
      return false;
    }
    put_u16(out, static_cast<uint16_t>(a.type) & 0x7fff);
    put_u16(out, static_cast<uint16_t>(a.value.size()));
    put_bytes(out, a.value);
  }
  return true;
}

bool encode(const EncryptedFragment& f, Bytes& out) {
  put_u16(out, f.number);
  put_u16(out, f.total);
  put_bytes(out, f.body);
  return true;
}

bool encode(const UnknownPayload& u, Bytes& out) {
  put_bytes(out, u.body);
  return true;
}

// Bodies that are only opaque bytes.
template <typename T>
bool encode_opaque(const T& payload, Bytes& out) {
  if constexpr (std::is_same_v<T, EncryptedPayload>) {
    put_bytes(out, payload.body);
  } else {
    put_bytes(out, payload.data);
  }
  return true;
}

}  // namespace

bool encode_body(const PayloadBody& body, Bytes& out) {
  return std::visit(
      [&out](const auto& b) -> bool {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, NoncePayload> || std::is_same_v<T, VendorIdPayload> ||
                      std::is_same_v<T, EapPayload> || std::is_same_v<T, EncryptedPayload>) {
          return encode_opaque(b, out);
        } else {
          return encode(b, out);
        }
      },
      body);
}

std::optional<PayloadType> inner_next(const PayloadBody& body) {
  if (const auto* sk = std::get_if<EncryptedPayload>(&body)) {
    return sk->first_inner;
  }
  if (const auto* skf = std::get_if<EncryptedFragment>(&body)) {
    return skf->first_inner;
  }
  return std::nullopt;
}

}  // namespace traverse::ike::codec
