#include "control/ike/message/message.hh"

#include <type_traits>

namespace traverse::ike {

const Payload* Message::find(PayloadType type) const {
  for (const Payload& p : payloads) {
    if (p.type == type) {
      return &p;
    }
  }
  return nullptr;
}

std::vector<const Payload*> Message::find_all(PayloadType type) const {
  std::vector<const Payload*> found;
  for (const Payload& p : payloads) {
    if (p.type == type) {
      found.push_back(&p);
    }
  }
  return found;
}

const NotifyPayload* Message::find_notify(NotifyType type) const {
  for (const Payload& p : payloads) {
    const auto* notify = p.get<NotifyPayload>();
    if (notify != nullptr && notify->type == type) {
      return notify;
    }
  }
  return nullptr;
}

PayloadType implied_type(const PayloadBody& body) {
  return std::visit(
      [](const auto& b) -> PayloadType {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, SaPayload>) {
          return PayloadType::sa;
        } else if constexpr (std::is_same_v<T, KePayload>) {
          return PayloadType::ke;
        } else if constexpr (std::is_same_v<T, IdPayload>) {
          return PayloadType::idi;
        } else if constexpr (std::is_same_v<T, CertPayload>) {
          return PayloadType::cert;
        } else if constexpr (std::is_same_v<T, CertReqPayload>) {
          return PayloadType::certreq;
        } else if constexpr (std::is_same_v<T, AuthPayload>) {
          return PayloadType::auth;
        } else if constexpr (std::is_same_v<T, NoncePayload>) {
          return PayloadType::nonce;
        } else if constexpr (std::is_same_v<T, NotifyPayload>) {
          return PayloadType::notify;
        } else if constexpr (std::is_same_v<T, DeletePayload>) {
          return PayloadType::delete_;
        } else if constexpr (std::is_same_v<T, VendorIdPayload>) {
          return PayloadType::vendor_id;
        } else if constexpr (std::is_same_v<T, TsPayload>) {
          return PayloadType::tsi;
        } else if constexpr (std::is_same_v<T, CpPayload>) {
          return PayloadType::cp;
        } else if constexpr (std::is_same_v<T, EapPayload>) {
          return PayloadType::eap;
        } else if constexpr (std::is_same_v<T, EncryptedPayload>) {
          return PayloadType::sk;
        } else if constexpr (std::is_same_v<T, EncryptedFragment>) {
          return PayloadType::skf;
        } else {
          return static_cast<PayloadType>(b.type);
        }
      },
      body);
}

Bytes id_payload_body(const IdPayload& id) {
  Bytes out;
  out.reserve(4 + id.data.size());
  out.push_back(static_cast<uint8_t>(id.type));
  out.resize(4, 0);  // reserved
  out.insert(out.end(), id.data.begin(), id.data.end());
  return out;
}

}  // namespace traverse::ike
