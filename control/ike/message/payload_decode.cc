// Decoding of payload bodies: every substructure length is checked against
// its container before it is read, and every count against ParseLimits.
#include <string>

#include "control/ike/message/payload_codec.hh"
#include "control/ike/message/wire.hh"

namespace traverse::ike::codec {
namespace {

using wire::Reader;

// Fails a decode; the payload type is filled in by the caller's context.
struct Fail {
  PayloadType type;
  Unexpected<ParseError> operator()(ParseErrorKind kind, std::string detail) const {
    return unexpected(ParseError{kind, static_cast<uint8_t>(type), std::move(detail)});
  }
};

using BodyResult = Expected<PayloadBody, ParseError>;

// Transform attributes (RFC 7296 3.3.5): Key Length is a TV attribute; all
// others are checked for structure and kept verbatim.
Expected<bool, ParseError> decode_attributes(ByteView data, Transform& t, const Fail& fail) {
  Reader r(data);
  bool have_key_length = false;
  while (!r.empty()) {
    const std::size_t start = r.offset();
    uint16_t format_and_type = 0;
    uint16_t length_or_value = 0;
    if (!r.u16(format_and_type) || !r.u16(length_or_value)) {
      return fail(ParseErrorKind::truncated, "transform attribute header");
    }
    const bool tv = (format_and_type & 0x8000) != 0;
    const uint16_t type = format_and_type & 0x7fff;
    if (type == transform_attribute_key_length) {
      if (!tv) {
        return fail(ParseErrorKind::invalid_syntax, "Key Length attribute not in TV format");
      }
      if (have_key_length) {
        return fail(ParseErrorKind::invalid_syntax, "Key Length attribute repeated");
      }
      have_key_length = true;
      t.key_length = length_or_value;
      continue;
    }
    if (!tv) {
      ByteView ignored;
      if (!r.view(length_or_value, ignored)) {
        return fail(ParseErrorKind::bad_length, "transform attribute length " +
                                                    std::to_string(length_or_value) +
                                                    " exceeds its transform");
      }
    }
    const ByteView raw = data.subspan(start, r.offset() - start);
    t.other_attributes.insert(t.other_attributes.end(), raw.begin(), raw.end());
  }
  return true;
}

Expected<bool, ParseError> decode_proposal(ByteView data, const ParseLimits& limits, Proposal& p,
                                           const Fail& fail) {
  Reader r(data);
  uint8_t protocol = 0;
  uint8_t spi_size = 0;
  uint8_t transform_count = 0;
  if (!r.u8(p.number) || !r.u8(protocol) || !r.u8(spi_size) || !r.u8(transform_count)) {
    return fail(ParseErrorKind::truncated, "proposal header");
  }
  p.protocol = static_cast<ProtocolId>(protocol);
  if (!r.bytes(spi_size, p.spi)) {
    return fail(ParseErrorKind::bad_length,
                "proposal SPI size " + std::to_string(spi_size) + " exceeds the proposal");
  }
  if (transform_count > limits.max_transforms) {
    return fail(ParseErrorKind::too_many,
                std::to_string(transform_count) + " transforms in one proposal");
  }
  bool last_seen = false;
  while (!r.empty()) {
    if (last_seen || p.transforms.size() >= transform_count) {
      return fail(ParseErrorKind::invalid_syntax, "data after the last transform");
    }
    uint8_t last = 0;
    uint8_t reserved = 0;
    uint16_t length = 0;
    uint8_t type = 0;
    uint16_t id = 0;
    if (!r.u8(last) || !r.u8(reserved) || !r.u16(length)) {
      return fail(ParseErrorKind::truncated, "transform header");
    }
    if (length < 8 || length - 4u > r.remaining()) {
      return fail(ParseErrorKind::bad_length, "transform length " + std::to_string(length));
    }
    if (last != 0 && last != 3) {
      return fail(ParseErrorKind::invalid_syntax,
                  "transform last-substructure " + std::to_string(last) + " (want 0 or 3)");
    }
    last_seen = last == 0;
    Transform t;
    r.u8(type);
    r.u8(reserved);
    r.u16(id);
    t.type = static_cast<TransformType>(type);
    t.id = id;
    ByteView attributes;
    r.view(length - 8u, attributes);
    auto ok = decode_attributes(attributes, t, fail);
    if (!ok) {
      return unexpected(ok.error());
    }
    p.transforms.push_back(std::move(t));
  }
  if (p.transforms.size() != transform_count || (transform_count != 0 && !last_seen)) {
    return fail(ParseErrorKind::invalid_syntax,
                "proposal announces " + std::to_string(transform_count) + " transforms, holds " +
                    std::to_string(p.transforms.size()));
  }
  return true;
}

BodyResult decode_sa(ByteView body, const ParseLimits& limits, const Fail& fail) {
  Reader r(body);
  SaPayload sa;
  bool last_seen = false;
  while (!r.empty()) {
    if (last_seen) {
      return fail(ParseErrorKind::invalid_syntax, "data after the last proposal");
    }
    if (sa.proposals.size() >= limits.max_proposals) {
      return fail(ParseErrorKind::too_many,
                  "more than " + std::to_string(limits.max_proposals) + " proposals");
    }
    uint8_t last = 0;
    uint8_t reserved = 0;
    uint16_t length = 0;
    if (!r.u8(last) || !r.u8(reserved) || !r.u16(length)) {
      return fail(ParseErrorKind::truncated, "proposal header");
    }
    if (length < 8 || length - 4u > r.remaining()) {
      return fail(ParseErrorKind::bad_length, "proposal length " + std::to_string(length));
    }
    if (last != 0 && last != 2) {
      return fail(ParseErrorKind::invalid_syntax,
                  "proposal last-substructure " + std::to_string(last) + " (want 0 or 2)");
    }
    last_seen = last == 0;
    ByteView proposal_body;
    r.view(length - 4u, proposal_body);
    Proposal p;
    auto ok = decode_proposal(proposal_body, limits, p, fail);
    if (!ok) {
      return unexpected(ok.error());
    }
    sa.proposals.push_back(std::move(p));
  }
  if (!last_seen) {
    return fail(ParseErrorKind::invalid_syntax, "SA payload without a last proposal");
  }
  return PayloadBody(std::move(sa));
}

BodyResult decode_ts(ByteView body, const ParseLimits& limits, const Fail& fail) {
  Reader r(body);
  uint8_t count = 0;
  ByteView reserved;
  if (!r.u8(count) || !r.view(3, reserved)) {
    return fail(ParseErrorKind::truncated, "TS payload header");
  }
  if (count > limits.max_selectors) {
    return fail(ParseErrorKind::too_many, std::to_string(count) + " traffic selectors");
  }
  TsPayload ts;
  for (unsigned i = 0; i < count; ++i) {
    TrafficSelector s;
    uint8_t type = 0;
    uint16_t length = 0;
    if (!r.u8(type) || !r.u8(s.ip_protocol) || !r.u16(length)) {
      return fail(ParseErrorKind::truncated, "traffic selector header");
    }
    s.type = static_cast<TsType>(type);
    if (length < 8 || length - 4u > r.remaining()) {
      return fail(ParseErrorKind::bad_length, "traffic selector length " + std::to_string(length));
    }
    std::size_t address_size = 0;
    if (s.type == TsType::ipv4_addr_range) {
      address_size = 4;
    } else if (s.type == TsType::ipv6_addr_range) {
      address_size = 16;
    }
    if (address_size != 0 && length != 8 + 2 * address_size) {
      return fail(ParseErrorKind::bad_length, "traffic selector of type " + std::to_string(type) +
                                                  " with length " + std::to_string(length));
    }
    r.u16(s.start_port);
    r.u16(s.end_port);
    if (address_size != 0) {
      r.bytes(address_size, s.start_address);
      r.bytes(address_size, s.end_address);
    } else {
      r.bytes(length - 8u, s.start_address);
    }
    ts.selectors.push_back(std::move(s));
  }
  if (!r.empty()) {
    return fail(ParseErrorKind::bad_length, "data after " + std::to_string(count) + " selectors");
  }
  return PayloadBody(std::move(ts));
}

BodyResult decode_cp(ByteView body, const ParseLimits& limits, const Fail& fail) {
  Reader r(body);
  uint8_t type = 0;
  ByteView reserved;
  if (!r.u8(type) || !r.view(3, reserved)) {
    return fail(ParseErrorKind::truncated, "CP payload header");
  }
  CpPayload cp;
  cp.config_type = static_cast<ConfigType>(type);
  while (!r.empty()) {
    if (cp.attributes.size() >= limits.max_config_attributes) {
      return fail(ParseErrorKind::too_many, "more than " +
                                                std::to_string(limits.max_config_attributes) +
                                                " configuration attributes");
    }
    uint16_t attribute_type = 0;
    uint16_t length = 0;
    if (!r.u16(attribute_type) || !r.u16(length)) {
      return fail(ParseErrorKind::truncated, "configuration attribute header");
    }
    ConfigAttr a;
    a.type = static_cast<ConfigAttributeType>(attribute_type & 0x7fff);
    if (!r.bytes(length, a.value)) {
      return fail(ParseErrorKind::bad_length,
                  "configuration attribute length " + std::to_string(length));
    }
    cp.attributes.push_back(std::move(a));
  }
  return PayloadBody(std::move(cp));
}

BodyResult decode_notify(ByteView body, const Fail& fail) {
  Reader r(body);
  uint8_t protocol = 0;
  uint8_t spi_size = 0;
  uint16_t type = 0;
  if (!r.u8(protocol) || !r.u8(spi_size) || !r.u16(type)) {
    return fail(ParseErrorKind::truncated, "notify header");
  }
  NotifyPayload n;
  n.protocol = static_cast<ProtocolId>(protocol);
  n.type = static_cast<NotifyType>(type);
  if (!r.bytes(spi_size, n.spi)) {
    return fail(ParseErrorKind::bad_length,
                "notify SPI size " + std::to_string(spi_size) + " exceeds the payload");
  }
  const ByteView data = r.rest();
  n.data.assign(data.begin(), data.end());
  return PayloadBody(std::move(n));
}

BodyResult decode_delete(ByteView body, const ParseLimits& limits, const Fail& fail) {
  Reader r(body);
  uint8_t protocol = 0;
  uint16_t count = 0;
  DeletePayload d;
  if (!r.u8(protocol) || !r.u8(d.spi_size) || !r.u16(count)) {
    return fail(ParseErrorKind::truncated, "delete header");
  }
  d.protocol = static_cast<ProtocolId>(protocol);
  if (count > limits.max_delete_spis) {
    return fail(ParseErrorKind::too_many, std::to_string(count) + " SPIs in one delete");
  }
  if ((d.spi_size == 0 && count != 0) ||
      r.remaining() != static_cast<std::size_t>(count) * d.spi_size) {
    return fail(ParseErrorKind::bad_length, std::to_string(count) + " SPIs of " +
                                                std::to_string(d.spi_size) + " bytes in " +
                                                std::to_string(r.remaining()) + " bytes");
  }
  d.spis.resize(count);
  for (Bytes& spi : d.spis) {
    r.bytes(d.spi_size, spi);
  }
  return PayloadBody(std::move(d));
}

// The bodies that are a few fixed header bytes followed by opaque data.
BodyResult decode_simple(PayloadType type, uint8_t next_payload, ByteView body, const Fail& fail) {
  Reader r(body);
  switch (type) {
    case PayloadType::ke: {
      if (body.size() < 4) {
        return fail(ParseErrorKind::truncated, "KE header");
      }
      KePayload ke;
      uint16_t reserved = 0;
      r.u16(ke.group);
      r.u16(reserved);
      r.bytes(r.remaining(), ke.data);
      return PayloadBody(std::move(ke));
    }
    case PayloadType::idi:
    case PayloadType::idr: {
      if (body.size() < 4) {
        return fail(ParseErrorKind::truncated, "ID header");
      }
      return PayloadBody(
          IdPayload{static_cast<IdType>(body[0]), Bytes(body.begin() + 4, body.end())});
    }
    case PayloadType::auth: {
      if (body.size() < 4) {
        return fail(ParseErrorKind::truncated, "AUTH header");
      }
      return PayloadBody(
          AuthPayload{static_cast<AuthMethod>(body[0]), Bytes(body.begin() + 4, body.end())});
    }
    case PayloadType::cert:
    case PayloadType::certreq: {
      if (body.empty()) {
        return fail(ParseErrorKind::truncated, "certificate encoding");
      }
      const auto encoding = static_cast<CertEncoding>(body[0]);
      Bytes data(body.begin() + 1, body.end());
      if (type == PayloadType::cert) {
        return PayloadBody(CertPayload{encoding, std::move(data)});
      }
      return PayloadBody(CertReqPayload{encoding, std::move(data)});
    }
    case PayloadType::nonce:
      if (body.size() < 16 || body.size() > 256) {
        return fail(ParseErrorKind::invalid_syntax,
                    "nonce of " + std::to_string(body.size()) + " bytes (RFC 7296: 16..256)");
      }
      return PayloadBody(NoncePayload{Bytes(body.begin(), body.end())});
    case PayloadType::vendor_id:
      return PayloadBody(VendorIdPayload{Bytes(body.begin(), body.end())});
    case PayloadType::eap: {
      // EAP header: code, identifier, length (RFC 3748 4); the length must agree.
      if (body.size() < 4) {
        return fail(ParseErrorKind::truncated, "EAP header");
      }
      const std::size_t eap_length = static_cast<std::size_t>(body[2] << 8 | body[3]);
      if (eap_length != body.size()) {
        return fail(ParseErrorKind::bad_length, "EAP length " + std::to_string(eap_length) +
                                                    " in a " + std::to_string(body.size()) +
                                                    "-byte payload");
      }
      return PayloadBody(EapPayload{Bytes(body.begin(), body.end())});
    }
    case PayloadType::sk:
      if (body.empty()) {
        return fail(ParseErrorKind::truncated, "empty SK payload");
      }
      return PayloadBody(EncryptedPayload{static_cast<PayloadType>(next_payload),
                                          Bytes(body.begin(), body.end())});
    case PayloadType::skf: {
      EncryptedFragment f;
      if (!r.u16(f.number) || !r.u16(f.total) || r.empty()) {
        return fail(ParseErrorKind::truncated, "SKF header");
      }
      if (f.number == 0 || f.total == 0 || f.number > f.total) {
        return fail(ParseErrorKind::invalid_syntax,
                    "fragment " + std::to_string(f.number) + " of " + std::to_string(f.total));
      }
      f.first_inner = static_cast<PayloadType>(next_payload);
      r.bytes(r.remaining(), f.body);
      return PayloadBody(std::move(f));
    }
    default:
      break;
  }
  return fail(ParseErrorKind::invalid_syntax, "no decoder");
}

}  // namespace

BodyResult decode_body(PayloadType type, uint8_t next_payload, ByteView body,
                       const ParseLimits& limits) {
  const Fail fail{type};
  switch (type) {
    case PayloadType::sa:
      return decode_sa(body, limits, fail);
    case PayloadType::tsi:
    case PayloadType::tsr:
      return decode_ts(body, limits, fail);
    case PayloadType::cp:
      return decode_cp(body, limits, fail);
    case PayloadType::notify:
      return decode_notify(body, fail);
    case PayloadType::delete_:
      return decode_delete(body, limits, fail);
    default:
      return decode_simple(type, next_payload, body, fail);
  }
}

}  // namespace traverse::ike::codec
