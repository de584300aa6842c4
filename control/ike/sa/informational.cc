// INFORMATIONAL exchanges (RFC 7296 1.4, 1.5, 2.4): deleting child SAs and
// the IKE SA, and liveness checks (an empty request), for both roles.
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/payload_util.hh"

namespace traverse::ike {

void IkeSa::send_delete_child(uint64_t child_id) {
  auto it = children_.find(child_id);
  if (it == children_.end() || it->second.spi_in == 0)
    return;
  ChildSa& child = it->second;
  // Stop sending with it now; inbound stays until the peer confirms.
  uninstall_child(child, false, true);
  child.state = ChildState::deleting;
  DeletePayload d;
  d.protocol = ProtocolId::esp;
  d.spi_size = 4;
  d.spis.push_back(be32(child.spi_in));
  PendingRequest pending;
  pending.child_id = child_id;
  send_request(ExchangeKind::delete_child, ExchangeType::informational,
               {make_payload(PayloadType::delete_, std::move(d))}, std::move(pending));
}

void IkeSa::send_delete_ike() {
  DeletePayload d;
  d.protocol = ProtocolId::ike;
  d.spi_size = 0;
  destroy_children();
  state_ = IkeState::deleting;
  send_request(ExchangeKind::delete_ike, ExchangeType::informational,
               {make_payload(PayloadType::delete_, std::move(d))}, PendingRequest{});
  log(LogLevel::info, "deleting IKE SA");
}

void IkeSa::send_liveness() {
  manager_.counters().add("ike_liveness_sent");
  send_request(ExchangeKind::liveness, ExchangeType::informational, {}, PendingRequest{});
}

void IkeSa::process_informational_request(uint32_t message_id, const std::vector<Payload>& inner) {
  std::vector<Payload> out;
  DeletePayload ours;
  ours.protocol = ProtocolId::esp;
  ours.spi_size = 4;
  bool delete_ike = false;
  for (const auto* d : find_all<DeletePayload>(inner, PayloadType::delete_)) {
    if (d->protocol == ProtocolId::ike) {
      delete_ike = true;
      continue;
    }
    if (d->protocol != ProtocolId::esp)
      continue;
    for (const Bytes& spi_bytes : d->spis) {
      auto spi = read_be32(spi_bytes);
      if (!spi)
        continue;
      for (auto it = children_.begin(); it != children_.end(); ++it) {
        ChildSa& c = it->second;
        if (c.spi_out != *spi || *spi == 0)
          continue;
        // RFC 7296 1.4.1: answer with our inbound SPI of the same pair,
        // unless we are deleting it ourselves (then our request covers it).
        if (c.state != ChildState::deleting)
          ours.spis.push_back(be32(c.spi_in));
        log(LogLevel::info, "peer deleted child SA #" + std::to_string(c.id));
        uninstall_child(c, true, true);
        erase_child(it);
        manager_.counters().add("child_deleted_by_peer");
        break;
      }
    }
  }
  if (delete_ike) {
    log(LogLevel::info, "peer deleted the IKE SA");
    manager_.counters().add("ike_deleted_by_peer");
    send_response(ExchangeType::informational, message_id, {});
    // RFC 7296 2.25.2: a delete of the SA we are rekeying ends our rekey;
    // with colliding rekeys (2.8.2), the peer's successor survives.
    settle_collision();
    destroy_children();
    die();
    return;
  }
  if (!ours.spis.empty())
    out.push_back(make_payload(PayloadType::delete_, std::move(ours)));
  send_response(ExchangeType::informational, message_id, std::move(out));
}

void IkeSa::process_informational_response(PendingRequest& pending,
                                           const std::vector<Payload>& inner) {
  (void)inner;
  switch (pending.kind) {
    case ExchangeKind::delete_ike:
      destroy_children();
      die();
      break;
    case ExchangeKind::delete_child: {
      auto it = children_.find(pending.child_id);
      if (it != children_.end()) {
        uninstall_child(it->second, true, true);
        erase_child(it);
        manager_.counters().add("child_deleted");
      }
      break;
    }
    default:
      break;  // liveness: the answer itself was the point
  }
}

}  // namespace traverse::ike
