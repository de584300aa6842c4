#include "control/ike/message/builder.hh"

#include <limits>

#include "control/ike/message/payload_codec.hh"
#include "control/ike/message/wire.hh"

namespace traverse::ike {
namespace {

constexpr std::size_t max_payload_length = std::numeric_limits<uint16_t>::max();
constexpr uint8_t critical_bit = 0x80;

void put_header(const Header& h, PayloadType next, Bytes& out) {
  wire::put_u64(out, h.spi_i);
  wire::put_u64(out, h.spi_r);
  wire::put_u8(out, static_cast<uint8_t>(next));
  wire::put_u8(out, static_cast<uint8_t>((h.major_version << 4) | (h.minor_version & 0x0f)));
  wire::put_u8(out, static_cast<uint8_t>(h.exchange));
  wire::put_u8(out, h.flags);
  wire::put_u32(out, h.message_id);
  wire::put_u32(out, 0);  // length, patched once known
}

bool put_generic_header(Bytes& out, PayloadType next, bool critical, std::size_t body_length) {
  const std::size_t length = generic_payload_header_size + body_length;
  if (length > max_payload_length) {
    return false;
  }
  wire::put_u8(out, static_cast<uint8_t>(next));
  wire::put_u8(out, critical ? critical_bit : 0);
  wire::put_u16(out, static_cast<uint16_t>(length));
  return true;
}

// Appends the chain; the last payload's next-payload field is `after_last`
// unless it is SK/SKF, whose field names its first inner payload.
bool append_chain(const std::vector<Payload>& payloads, PayloadType after_last, Bytes& out) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    PayloadType next = i + 1 < payloads.size() ? payloads[i + 1].type : after_last;
    if (auto inner = codec::inner_next(p.body)) {
      next = *inner;
    }
    const std::size_t start = out.size();
    wire::put_u8(out, static_cast<uint8_t>(next));
    wire::put_u8(out, p.critical ? critical_bit : 0);
    wire::put_u16(out, 0);
    if (!codec::encode_body(p.body, out)) {
      return false;
    }
    const std::size_t length = out.size() - start;
    if (length > max_payload_length) {
      return false;
    }
    wire::patch_u16(out, start + 2, static_cast<uint16_t>(length));
  }
  return true;
}

bool patch_message_length(Bytes& out, std::size_t total) {
  if (total > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  wire::patch_u32(out, 24, static_cast<uint32_t>(total));
  return true;
}

}  // namespace

Bytes build_message(Header header, const std::vector<Payload>& payloads) {
  Bytes out;
  put_header(header, payloads.empty() ? PayloadType::none : payloads.front().type, out);
  if (!append_chain(payloads, PayloadType::none, out) || !patch_message_length(out, out.size())) {
    return {};
  }
  return out;
}

Bytes serialize_payload_chain(const std::vector<Payload>& payloads, PayloadType* first) {
  if (first != nullptr) {
    *first = payloads.empty() ? PayloadType::none : payloads.front().type;
  }
  Bytes out;
  if (!append_chain(payloads, PayloadType::none, out)) {
    return {};
  }
  return out;
}

Bytes build_sk_prefix(Header header, PayloadType first_inner, std::size_t sk_body_length) {
  return build_sk_prefix(header, {}, first_inner, sk_body_length);
}

Bytes build_sk_prefix(Header header, const std::vector<Payload>& plain_before,
                      PayloadType first_inner, std::size_t sk_body_length) {
  Bytes out;
  put_header(header, plain_before.empty() ? PayloadType::sk : plain_before.front().type, out);
  if (!append_chain(plain_before, PayloadType::sk, out) ||
      !put_generic_header(out, first_inner, false, sk_body_length) ||
      !patch_message_length(out, out.size() + sk_body_length)) {
    return {};
  }
  return out;
}

Bytes build_skf_prefix(Header header, PayloadType first_inner, uint16_t number, uint16_t total,
                       std::size_t body_length) {
  Bytes out;
  put_header(header, PayloadType::skf, out);
  const std::size_t skf_body_length = skf_header_size - generic_payload_header_size + body_length;
  if (!put_generic_header(out, number == 1 ? first_inner : PayloadType::none, false,
                          skf_body_length)) {
    return {};
  }
  wire::put_u16(out, number);
  wire::put_u16(out, total);
  if (!patch_message_length(out, out.size() + body_length)) {
    return {};
  }
  return out;
}

}  // namespace traverse::ike
