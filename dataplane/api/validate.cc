#include "dataplane/api/validate.hh"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "drivers/crypto/transform.hh"

namespace traverse::api {
namespace {

constexpr std::size_t kTransformCount = std::size(crypto::kAllTransforms);
constexpr std::size_t kBackendCount = std::size(crypto::kAllBackends);

// Writes the sentence and returns `status`, so a check reads as one line.
// Not a variadic template: vsnprintf keeps the format checks of -Wformat.
[[gnu::format(printf, 4, 5)]] ReplyStatus fail(char* detail, std::size_t size, ReplyStatus status,
                                               const char* format, ...) {
  if (detail != nullptr && size > 0) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(detail, size, format, args);
    va_end(args);
  }
  return status;
}

// Field checks share the output buffer; `where` is the field path prefix.
struct Out {
  char* detail;
  std::size_t size;
};

ReplyStatus check_address(const Address& a, const char* where, Out o) {
  if (a.version != 4 && a.version != 6) {
    return fail(o.detail, o.size, ReplyStatus::bad_field, "%s.version is %u, must be 4 or 6", where,
                a.version);
  }
  const unsigned max_prefix = a.version == 4 ? 32 : 128;
  if (a.prefix_len > max_prefix) {
    return fail(o.detail, o.size, ReplyStatus::bad_field,
                "%s.prefix_len is %u, at most %u for IPv%u", where, a.prefix_len, max_prefix,
                a.version);
  }
  return ReplyStatus::ok;
}

ReplyStatus check_spi(uint32_t spi, const char* where, Out o) {
  if (spi < kMinSpi) {
    return fail(o.detail, o.size, ReplyStatus::bad_field,
                "%s.spi is %u, values below %u are reserved", where, spi, kMinSpi);
  }
  return ReplyStatus::ok;
}

ReplyStatus check_direction(Direction d, const char* where, Out o) {
  const auto v = static_cast<unsigned>(d);
  if (v > 1) {
    return fail(o.detail, o.size, ReplyStatus::bad_field,
                "%s.direction is %u, must be 0 (inbound) or 1 (outbound)", where, v);
  }
  return ReplyStatus::ok;
}

ReplyStatus check_sa_ref(const SaRef& r, const char* where, Out o) {
  if (auto s = check_spi(r.spi, where, o); s != ReplyStatus::ok) {
    return s;
  }
  return check_direction(r.direction, where, o);
}

ReplyStatus check_lifetime_pair(uint64_t soft, uint64_t hard, const char* name, Out o) {
  // 0 means unlimited; a soft limit past the hard one would never fire.
  if (hard != 0 && soft > hard) {
    return fail(o.detail, o.size, ReplyStatus::bad_field,
                "sa.lifetime.soft_%s (%llu) exceeds sa.lifetime.hard_%s (%llu)", name,
                static_cast<unsigned long long>(soft), name, static_cast<unsigned long long>(hard));
  }
  return ReplyStatus::ok;
}

ReplyStatus check_sa(const SaRecord& sa, Out o) {
  const ReplyStatus bad = ReplyStatus::bad_field;
  if (auto s = check_spi(sa.spi, "sa", o); s != ReplyStatus::ok) {
    return s;
  }
  if (auto s = check_direction(sa.direction, "sa", o); s != ReplyStatus::ok) {
    return s;
  }
  if (sa.transform >= kTransformCount) {
    return fail(o.detail, o.size, bad, "sa.transform is %u, must be below %zu", sa.transform,
                kTransformCount);
  }
  if (sa.backend >= kBackendCount) {
    return fail(o.detail, o.size, bad, "sa.backend is %u, must be below %zu", sa.backend,
                kBackendCount);
  }
  if ((sa.flags & ~kSaFlagsKnown) != 0) {
    return fail(o.detail, o.size, bad, "sa.flags has unknown bits 0x%02x",
                static_cast<unsigned>(sa.flags & ~kSaFlagsKnown));
  }
  const crypto::TransformInfo info =
      crypto::transform_info(static_cast<crypto::Transform>(sa.transform));
  const int name_len = static_cast<int>(info.name.size());
  const char* name = info.name.data();
  if (sa.cipher_key_len != info.cipher_key_len) {
    return fail(o.detail, o.size, bad, "sa.cipher_key_len is %u, %.*s needs %u", sa.cipher_key_len,
                name_len, name, info.cipher_key_len);
  }
  if (sa.salt_len != info.salt_len) {
    return fail(o.detail, o.size, bad, "sa.salt_len is %u, %.*s needs %u", sa.salt_len, name_len,
                name, info.salt_len);
  }
  if (sa.auth_key_len != info.auth_key_len) {
    return fail(o.detail, o.size, bad, "sa.auth_key_len is %u, %.*s needs %u", sa.auth_key_len,
                name_len, name, info.auth_key_len);
  }
  if (sa.df_mode >= kDfModeCount) {
    return fail(o.detail, o.size, bad, "sa.df_mode is %u, must be 0 (set), 1 (clear) or 2 (copy)",
                sa.df_mode);
  }
  if (auto s = check_address(sa.local, "sa.local", o); s != ReplyStatus::ok) {
    return s;
  }
  if (auto s = check_address(sa.remote, "sa.remote", o); s != ReplyStatus::ok) {
    return s;
  }
  if (sa.local.version != sa.remote.version) {
    return fail(o.detail, o.size, bad, "sa.remote.version is %u but sa.local.version is %u",
                sa.remote.version, sa.local.version);
  }
  if ((sa.flags & kSaFlagUdpEncap) != 0) {
    if (sa.local_port == 0) {
      return fail(o.detail, o.size, bad, "sa.local_port is 0 with UDP encapsulation");
    }
    if (sa.remote_port == 0) {
      return fail(o.detail, o.size, bad, "sa.remote_port is 0 with UDP encapsulation");
    }
  }
  if (sa.replay_window > kMaxReplayWindow) {
    return fail(o.detail, o.size, bad, "sa.replay_window is %u, at most %u", sa.replay_window,
                kMaxReplayWindow);
  }
  if (sa.direction == Direction::outbound) {
    // Sequence number 0 is never sent (RFC 4303 3.3.3); without ESN only
    // 32 bits exist.
    const bool esn = (sa.flags & kSaFlagEsn) != 0;
    if (sa.first_sequence == 0 || (!esn && sa.first_sequence > UINT32_MAX)) {
      return fail(o.detail, o.size, bad, "sa.first_sequence is %llu, must be 1..%s",
                  static_cast<unsigned long long>(sa.first_sequence),
                  esn ? "2^64-1" : "2^32-1 without ESN");
    }
  }
  if (auto s = check_lifetime_pair(sa.lifetime.soft_bytes, sa.lifetime.hard_bytes, "bytes", o);
      s != ReplyStatus::ok) {
    return s;
  }
  if (auto s =
          check_lifetime_pair(sa.lifetime.soft_packets, sa.lifetime.hard_packets, "packets", o);
      s != ReplyStatus::ok) {
    return s;
  }
  const uint16_t min_mtu = sa.local.version == 4 ? kMinPathMtuV4 : kMinPathMtuV6;
  if (sa.path_mtu != 0 && sa.path_mtu < min_mtu) {
    return fail(o.detail, o.size, bad, "sa.path_mtu is %u, IPv%u needs 0 (port MTU) or >= %u",
                sa.path_mtu, sa.local.version, min_mtu);
  }
  if (sa.ttl == 0) {
    return fail(o.detail, o.size, bad, "sa.ttl is 0");
  }
  return ReplyStatus::ok;
}

ReplyStatus check_policy(const PolicyRecord& p, Out o) {
  if (auto s = check_address(p.selector, "policy.selector", o); s != ReplyStatus::ok) {
    return s;
  }
  return check_spi(p.spi, "policy", o);
}

ReplyStatus check_counters_query(const CountersQuery& q, Out o) {
  if (q.scope == kCountersScopeGlobal) {
    return ReplyStatus::ok;
  }
  if (q.scope == kCountersScopeSa) {
    return check_sa_ref(q.sa, "counters_query.sa", o);
  }
  return fail(o.detail, o.size, ReplyStatus::bad_field,
              "counters_query.scope is %u, must be 0 (global) or 1 (one SA)", q.scope);
}

// Header checks shared by both directions.
ReplyStatus check_header(const MessageHeader& h, std::optional<uint32_t> length, const char* kind,
                         Out o) {
  if (h.version != kApiVersion) {
    return fail(o.detail, o.size, ReplyStatus::bad_version,
                "header.version is %u, this side speaks %u", h.version, kApiVersion);
  }
  if (!length) {
    return fail(o.detail, o.size, ReplyStatus::unknown_type, "header.type %u is not a %s type",
                static_cast<unsigned>(h.type), kind);
  }
  if (h.length != *length) {
    return fail(o.detail, o.size, ReplyStatus::bad_length, "header.length is %u, %s needs %u",
                h.length, message_type_name(h.type), *length);
  }
  return ReplyStatus::ok;
}

}  // namespace

std::optional<uint32_t> request_body_length(MessageType type) {
  switch (type) {
    case MessageType::hello:
      return 0;
    case MessageType::sa_add:
    case MessageType::sa_update:
      return sizeof(SaRecord);
    case MessageType::sa_delete:
      return sizeof(SaRef);
    case MessageType::policy_add:
    case MessageType::policy_delete:
      return sizeof(PolicyRecord);
    case MessageType::counters_get:
      return sizeof(CountersQuery);
    case MessageType::sa_list:
      return sizeof(ListQuery);
    default:
      return std::nullopt;
  }
}

std::optional<uint32_t> answer_body_length(MessageType type) {
  switch (type) {
    case MessageType::reply:
      return sizeof(Reply);
    case MessageType::counters_reply:
      return sizeof(CountersPage);
    case MessageType::sa_list_reply:
      return sizeof(SaListPage);
    case MessageType::sa_counters_reply:
      return sizeof(SaCounters);
    case MessageType::event:
      return sizeof(Event);
    default:
      return std::nullopt;
  }
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::hello:
      return "hello";
    case MessageType::sa_add:
      return "sa_add";
    case MessageType::sa_update:
      return "sa_update";
    case MessageType::sa_delete:
      return "sa_delete";
    case MessageType::policy_add:
      return "policy_add";
    case MessageType::policy_delete:
      return "policy_delete";
    case MessageType::counters_get:
      return "counters_get";
    case MessageType::sa_list:
      return "sa_list";
    case MessageType::reply:
      return "reply";
    case MessageType::counters_reply:
      return "counters_reply";
    case MessageType::sa_list_reply:
      return "sa_list_reply";
    case MessageType::sa_counters_reply:
      return "sa_counters_reply";
    case MessageType::event:
      return "event";
  }
  return "unknown";
}

ReplyStatus validate(const Message& m, char* detail, std::size_t detail_size) {
  const Out o{detail, detail_size};
  if (detail != nullptr && detail_size > 0) {
    detail[0] = '\0';
  }
  if (auto s = check_header(m.header, request_body_length(m.header.type), "request", o);
      s != ReplyStatus::ok) {
    return s;
  }
  switch (m.header.type) {
    case MessageType::sa_add:
    case MessageType::sa_update:
      return check_sa(m.body.sa, o);
    case MessageType::sa_delete:
      return check_sa_ref(m.body.sa_ref, "sa_ref", o);
    case MessageType::policy_add:
    case MessageType::policy_delete:
      return check_policy(m.body.policy, o);
    case MessageType::counters_get:
      return check_counters_query(m.body.counters_query, o);
    default:
      return ReplyStatus::ok;  // hello and sa_list: nothing beyond the header
  }
}

ReplyStatus validate_answer(const Message& m, char* detail, std::size_t detail_size) {
  const Out o{detail, detail_size};
  const ReplyStatus bad = ReplyStatus::bad_field;
  if (detail != nullptr && detail_size > 0) {
    detail[0] = '\0';
  }
  if (auto s = check_header(m.header, answer_body_length(m.header.type), "reply or event", o);
      s != ReplyStatus::ok) {
    return s;
  }
  switch (m.header.type) {
    case MessageType::reply: {
      const Reply& r = m.body.reply;
      if (static_cast<std::size_t>(r.status) >= kReplyStatusCount) {
        return fail(detail, detail_size, bad, "reply.status is %u, unknown",
                    static_cast<unsigned>(r.status));
      }
      if (std::memchr(r.detail, '\0', sizeof r.detail) == nullptr) {
        return fail(detail, detail_size, bad, "reply.detail is not NUL-terminated");
      }
      return ReplyStatus::ok;
    }
    case MessageType::counters_reply: {
      const CountersPage& p = m.body.counters_page;
      if (p.count > kCountersPerPage || p.more > 1) {
        return fail(detail, detail_size, bad, "counters_page.count %u / more %u out of range",
                    p.count, p.more);
      }
      for (std::size_t i = 0; i < p.count; ++i) {
        if (std::memchr(p.counters[i].name, '\0', sizeof p.counters[i].name) == nullptr) {
          return fail(detail, detail_size, bad,
                      "counters_page.counters[%zu].name is not NUL-terminated", i);
        }
      }
      return ReplyStatus::ok;
    }
    case MessageType::sa_list_reply: {
      const SaListPage& p = m.body.sa_list;
      if (p.count > kSasPerListPage || p.more > 1) {
        return fail(detail, detail_size, bad, "sa_list.count %u / more %u out of range", p.count,
                    p.more);
      }
      return ReplyStatus::ok;
    }
    case MessageType::event: {
      const Event& e = m.body.event;
      const auto t = static_cast<unsigned>(e.type);
      if (t < static_cast<unsigned>(EventType::lifetime_soft) ||
          t > static_cast<unsigned>(EventType::dataplane_restarted)) {
        return fail(detail, detail_size, bad, "event.type is %u, unknown", t);
      }
      return check_direction(e.direction, "event", o);
    }
    default:
      return ReplyStatus::ok;  // sa_counters_reply: plain numbers
  }
}

}  // namespace traverse::api
