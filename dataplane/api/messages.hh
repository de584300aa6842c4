// The dataplane API schema: every message between traverse-control (or a test
// tool) and traverse-dataplane. Fixed-size, trivially copyable records that
// travel through SPSC rings in one shared-memory segment (see ring.hh and
// segment.hh). Versioned: a message with another major version is refused.
// Includes nothing from the engine; the control plane includes this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace traverse::api {

// 2: outbound SAs are named by SPI and cookie (peers choose outbound SPIs,
// so two peers may pick the same one).
inline constexpr uint16_t kApiVersion = 2;
inline constexpr std::size_t kMessageSize = 256;  // every ring slot

enum class MessageType : uint16_t {
  // Requests (control -> dataplane); each gets exactly one answer: a Reply, or
  // for counters_get and sa_list the typed replies below (errors are always a
  // Reply; counters_reply pages end with more=0).
  hello = 1,          // version handshake; reply carries the dataplane's limits
  sa_add = 2,         // SaRecord
  sa_update = 3,      // SaRecord: new peer address/port, lifetimes, MTU
  sa_delete = 4,      // SaRef
  policy_add = 5,     // PolicyRecord
  policy_delete = 6,  // PolicyRecord: selector; spi != 0 removes it only while it maps to that SA
  counters_get = 7,   // CountersQuery -> counters_reply pages or one sa_counters_reply
  sa_list = 8,        // ListQuery: enumerate installed SAs (reconcile after restart)
  // Replies and events (dataplane -> control).
  reply = 64,
  counters_reply = 65,     // CountersPage: answers counters_get scope 0, more=0 on the last
  sa_list_reply = 66,      // SaListPage: answers sa_list, one page per request
  sa_counters_reply = 67,  // SaCounters: answers counters_get scope 1 (one SA)
  event = 80,
};

enum class ReplyStatus : uint16_t {
  ok = 0,
  bad_version,
  unknown_type,
  bad_length,
  bad_field,  // detail names the field
  unknown_sa,
  exists,
  table_full,
  crypto_error,  // keys rejected by the crypto driver
  internal,
};
inline constexpr std::size_t kReplyStatusCount = 10;

constexpr const char* reply_status_name(ReplyStatus s) {
  switch (s) {
    case ReplyStatus::ok:
      return "ok";
    case ReplyStatus::bad_version:
      return "bad_version";
    case ReplyStatus::unknown_type:
      return "unknown_type";
    case ReplyStatus::bad_length:
      return "bad_length";
    case ReplyStatus::bad_field:
      return "bad_field";
    case ReplyStatus::unknown_sa:
      return "unknown_sa";
    case ReplyStatus::exists:
      return "exists";
    case ReplyStatus::table_full:
      return "table_full";
    case ReplyStatus::crypto_error:
      return "crypto_error";
    case ReplyStatus::internal:
      return "internal";
  }
  return "unknown_status";
}

enum class Direction : uint8_t { inbound = 0, outbound = 1 };

// Lifetime counters: soft raises an event, hard deletes the SA and raises one.
struct Lifetime {
  uint64_t soft_bytes;
  uint64_t hard_bytes;
  uint64_t soft_packets;
  uint64_t hard_packets;
};

struct Address {
  uint8_t version;  // 4 or 6, 0 = none
  uint8_t prefix_len;
  uint8_t pad[2];
  uint8_t bytes[16];
};

struct MessageHeader {
  uint16_t version;  // kApiVersion
  MessageType type;
  uint32_t length;      // bytes of the body that follows (<= kMessageSize - header)
  uint64_t request_id;  // echoed in the reply; events carry 0
};
static_assert(sizeof(MessageHeader) == 16);

// Names one installed SA. An inbound SPI is chosen by the gateway and unique
// on its own; an outbound SPI is chosen by the peer, so two peers may pick the
// same one: outbound SAs are named by (spi, cookie), and the control plane
// gives every SA a distinct cookie. Inbound lookups ignore the cookie.
struct SaRef {
  uint32_t spi;
  Direction direction;
  uint8_t pad[3];
  uint64_t cookie;
};

struct SaRecord {
  uint32_t spi;
  Direction direction;
  uint8_t transform;  // crypto::Transform
  uint8_t backend;    // crypto::Backend
  uint8_t flags;      // kSaFlag* below
  uint8_t cipher_key[32];
  uint8_t cipher_key_len;
  uint8_t salt_len;
  uint8_t auth_key_len;
  uint8_t df_mode;  // esp::DfMode
  uint8_t salt[4];
  uint8_t auth_key[32];
  Address local;  // tunnel endpoints: outbound goes local -> remote
  Address remote;
  uint16_t local_port;  // UDP encapsulation ports
  uint16_t remote_port;
  uint32_t replay_window;
  uint64_t first_sequence;
  Lifetime lifetime;
  uint16_t path_mtu;  // initial outer path MTU (0 = the port's MTU)
  uint8_t ttl;
  uint8_t pad[5];
  uint64_t cookie;  // the control plane's SA id; with spi, names an outbound SA
};
inline constexpr uint8_t kSaFlagEsn = 1u << 0;
inline constexpr uint8_t kSaFlagUdpEncap = 1u << 1;
inline constexpr uint8_t kSaFlagsKnown = kSaFlagEsn | kSaFlagUdpEncap;
// Field limits that validate() enforces; part of the contract.
inline constexpr uint32_t kMinSpi = 256;  // RFC 4303: 1..255 reserved by IANA, 0 local use
inline constexpr uint32_t kMaxReplayWindow = 65536;  // packets; esp::ReplayWindow::kMaxSize
inline constexpr uint8_t kDfModeCount = 3;           // esp::DfMode: set, clear, copy
inline constexpr uint16_t kMinPathMtuV4 = 68;        // RFC 791
inline constexpr uint16_t kMinPathMtuV6 = 1280;      // RFC 8200

// Outbound policy: inside traffic whose destination falls in `selector` is
// sent with the outbound SA (spi, cookie). A /32 or /128 selector is an Office
// Mode address (hash lookup); shorter prefixes are traffic-selector ranges (LPM).
struct PolicyRecord {
  Address selector;
  uint32_t spi;
  uint64_t cookie;
};

inline constexpr uint8_t kCountersScopeGlobal = 0;  // ports and drop reasons: CountersPages
inline constexpr uint8_t kCountersScopeSa = 1;      // one SA: one SaCounters

struct CountersQuery {
  uint8_t scope;  // 0 = ports and drop reasons, 1 = one SA
  uint8_t pad[3];
  SaRef sa;
};

struct ListQuery {
  uint32_t start_index;  // resume point for the next page
  uint32_t pad;
};

struct Reply {
  ReplyStatus status;
  uint16_t pad;
  uint32_t value;   // e.g. hello: max SAs; sa_add: table index
  char detail[96];  // NUL-terminated, for operators
};

enum class EventType : uint16_t {
  lifetime_soft = 1,
  lifetime_hard = 2,  // the SA is gone from the dataplane
  sequence_near_exhaustion = 3,
  path_mtu_changed = 4,      // value = new outer path MTU
  peer_address_changed = 5,  // address/port = where authenticated ESP now comes from
  idle = 6,                  // no inbound packets for the configured idle time
  dataplane_restarted = 7,   // a fresh dataplane: re-install everything
};

struct Event {
  EventType type;
  Direction direction;
  uint8_t pad;
  uint32_t spi;
  uint64_t cookie;
  uint32_t value;
  uint16_t port;
  uint8_t pad2[2];
  Address address;
};

// SA counters; port/drop counters travel as name/value pairs in pages.
struct SaCounters {
  SaRef sa;
  uint64_t packets;
  uint64_t bytes;
  uint64_t drops;
  uint64_t replay_drops;
  uint64_t auth_drops;
  uint32_t path_mtu;
  uint32_t pad;
  uint64_t cookie;
};

struct NamedCounter {
  char name[40];
  uint64_t value;
};
inline constexpr std::size_t kCountersPerPage = 4;
struct CountersPage {
  uint16_t count;  // valid entries in `counters`
  uint16_t more;   // 1 when another page follows for the same request
  uint32_t pad;
  NamedCounter counters[kCountersPerPage];
};

inline constexpr std::size_t kSasPerListPage = 14;
struct SaListPage {
  uint16_t count;
  uint16_t more;
  uint32_t next_index;
  SaRef sas[kSasPerListPage];
};

// One ring slot: a header and the largest body, padded to kMessageSize.
struct Message {
  MessageHeader header;
  union Body {
    SaRecord sa;
    SaRef sa_ref;
    PolicyRecord policy;
    CountersQuery counters_query;
    ListQuery list_query;
    Reply reply;
    Event event;
    SaCounters sa_counters;
    CountersPage counters_page;
    SaListPage sa_list;
    uint8_t raw[kMessageSize - sizeof(MessageHeader)];
  } body;
};
static_assert(sizeof(Message) == kMessageSize);
static_assert(std::is_trivially_copyable_v<Message>);
static_assert(sizeof(SaRecord) <= sizeof(Message::Body));
static_assert(sizeof(SaListPage) <= sizeof(Message::Body));
static_assert(sizeof(SaRef) == 16 && sizeof(PolicyRecord) == 32);

}  // namespace traverse::api
