// IKE over UDP (RFC 7296 2.11, RFC 3948): sockets on port 500 and the NAT-T
// port, receiving with the local address each datagram was sent to (so
// replies leave from it and NAT detection hashes the right endpoint),
// stripping and adding the non-ESP marker on the NAT-T port, ignoring NAT
// keepalives. Runs on the caller's Asio io_context; one thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::transport {

using Endpoint = asio::ip::udp::endpoint;

struct UdpCounters {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t keepalives = 0;  // one 0xFF byte on the NAT-T port
  uint64_t not_ike = 0;     // ESP on the NAT-T socket (the dataplane's job) or junk
  uint64_t send_errors = 0;
  uint64_t no_socket = 0;  // nothing bound for the source we were asked to use
};

class UdpTransport {
 public:
  using Receiver =
      std::function<void(const Endpoint& local, const Endpoint& remote, ike::ByteView datagram)>;

  UdpTransport(asio::io_context& io, Receiver receiver);
  ~UdpTransport();
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Binds `address:port` (unspecified = every address of that family).
  // `natt`: the port carries the non-ESP marker. The error names both.
  Expected<void, std::string> listen(const asio::ip::address& address, uint16_t port, bool natt);
  void send(const Endpoint& local, const Endpoint& remote, ike::ByteView datagram);
  // A NAT keepalive (RFC 3948 2.3) from the NAT-T socket.
  void send_keepalive(const Endpoint& local, const Endpoint& remote);
  const UdpCounters& counters() const { return counters_; }

 private:
  struct Socket;
  void wait_readable(Socket& s);
  void drain(Socket& s);
  Socket* socket_for(const Endpoint& local);
  void send_raw(Socket& s, const Endpoint& local, const Endpoint& remote, const uint8_t* prefix,
                std::size_t prefix_len, ike::ByteView data);

  asio::io_context& io_;
  Receiver receiver_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  UdpCounters counters_;
  std::vector<uint8_t> buffer_;
};

}  // namespace traverse::transport
