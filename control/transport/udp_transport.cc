#include "control/transport/udp_transport.hh"

#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>

namespace traverse::transport {

struct UdpTransport::Socket {
  explicit Socket(asio::io_context& io) : socket(io) {}
  asio::ip::udp::socket socket;
  asio::ip::address bound;
  uint16_t port = 0;
  bool natt = false;
};

namespace {
constexpr std::size_t kMaxDatagram = 65535;
constexpr uint8_t kNonEspMarker[4] = {0, 0, 0, 0};
}  // namespace

UdpTransport::UdpTransport(asio::io_context& io, Receiver receiver)
    : io_(io), receiver_(std::move(receiver)), buffer_(kMaxDatagram) {}

UdpTransport::~UdpTransport() {
  for (auto& s : sockets_) {
    asio::error_code ignored;
    s->socket.close(ignored);
  }
}

Expected<void, std::string> UdpTransport::listen(const asio::ip::address& address, uint16_t port,
                                                 bool natt) {
  auto s = std::make_unique<Socket>(io_);
  asio::error_code ec;
  const auto protocol = address.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6();
  s->socket.open(protocol, ec);
  if (!ec && address.is_v6())
    s->socket.set_option(asio::ip::v6_only(true), ec);
  if (!ec)
    s->socket.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    s->socket.bind(Endpoint(address, port), ec);
  if (ec) {
    return unexpected("cannot bind UDP " + address.to_string() + " port " + std::to_string(port) +
                      ": " + ec.message());
  }
  s->socket.non_blocking(true, ec);
  const int fd = s->socket.native_handle();
  const int on = 1;
  // Learn each datagram's destination address (we may be bound to any).
  if (address.is_v4()) {
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  } else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  }
  s->bound = address;
  s->port = port;
  s->natt = natt;
  wait_readable(*s);
  sockets_.push_back(std::move(s));
  return {};
}

void UdpTransport::wait_readable(Socket& s) {
  s.socket.async_wait(asio::ip::udp::socket::wait_read, [this, &s](const asio::error_code& ec) {
    if (ec)
      return;  // closed
    drain(s);
    wait_readable(s);
  });
}

void UdpTransport::drain(Socket& s) {
  const int fd = s.socket.native_handle();
  for (int budget = 0; budget < 64; ++budget) {
    sockaddr_storage from{};
    alignas(cmsghdr) char control[256];
    iovec iov{buffer_.data(), buffer_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0)
      return;  // EAGAIN, or an error we cannot act on
    ++counters_.received;
    Endpoint remote;
    Endpoint local(s.bound, s.port);
    if (from.ss_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&from);
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, 4);
      remote = Endpoint(asio::ip::address_v4(b), ntohs(sin->sin_port));
    } else if (from.ss_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&from);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      remote = Endpoint(asio::ip::address_v6(b), ntohs(sin6->sin6_port));
    } else {
      continue;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), &info.ipi_addr, 4);
        local = Endpoint(asio::ip::address_v4(b), s.port);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &info.ipi6_addr, 16);
        local = Endpoint(asio::ip::address_v6(b), s.port);
      }
    }
    ike::ByteView data(buffer_.data(), static_cast<std::size_t>(n));
    if (s.natt) {
      if (data.size() == 1 && data[0] == 0xff) {
        ++counters_.keepalives;
        continue;
      }
      if (data.size() < 4 || std::memcmp(data.data(), kNonEspMarker, 4) != 0) {
        ++counters_.not_ike;  // ESP: not ours to handle here
        continue;
      }
      data = data.subspan(4);
    }
    receiver_(local, remote, data);
  }
}

UdpTransport::Socket* UdpTransport::socket_for(const Endpoint& local) {
  Socket* any = nullptr;
  for (auto& s : sockets_) {
    if (s->port != local.port() || s->bound.is_v4() != local.address().is_v4())
      continue;
    if (s->bound == local.address())
      return s.get();
    if (s->bound.is_unspecified())
      any = s.get();
  }
  return any;
}

void UdpTransport::send(const Endpoint& local, const Endpoint& remote, ike::ByteView datagram) {
  Socket* s = socket_for(local);
  if (s == nullptr) {
    ++counters_.no_socket;
    return;
  }
  if (s->natt) {
    send_raw(*s, local, remote, kNonEspMarker, sizeof kNonEspMarker, datagram);
  } else {
    send_raw(*s, local, remote, nullptr, 0, datagram);
  }
}

void UdpTransport::send_keepalive(const Endpoint& local, const Endpoint& remote) {
  Socket* s = socket_for(local);
  if (s == nullptr)
    return;
  const uint8_t keepalive = 0xff;
  send_raw(*s, local, remote, nullptr, 0, ike::ByteView(&keepalive, 1));
}

void UdpTransport::send_raw(Socket& s, const Endpoint& local, const Endpoint& remote,
                            const uint8_t* prefix, std::size_t prefix_len, ike::ByteView data) {
  iovec iov[2];
  int iovcnt = 0;
  if (prefix_len > 0)
    iov[iovcnt++] = {const_cast<uint8_t*>(prefix), prefix_len};
  iov[iovcnt++] = {const_cast<uint8_t*>(data.data()), data.size()};
  sockaddr_storage to{};
  socklen_t to_len = 0;
  alignas(cmsghdr) char control[64];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
  if (remote.address().is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&to);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(remote.port());
    auto b = remote.address().to_v4().to_bytes();
    std::memcpy(&sin->sin_addr, b.data(), 4);
    to_len = sizeof(sockaddr_in);
    if (s.bound.is_unspecified()) {
      // Leave from the address the peer talks to (RFC 7296 2.11).
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      auto l = local.address().to_v4().to_bytes();
      std::memcpy(&info.ipi_spec_dst, l.data(), 4);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&to);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(remote.port());
    auto b = remote.address().to_v6().to_bytes();
    std::memcpy(&sin6->sin6_addr, b.data(), 16);
    to_len = sizeof(sockaddr_in6);
    if (s.bound.is_unspecified()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      auto l = local.address().to_v6().to_bytes();
      std::memcpy(&info.ipi6_addr, l.data(), 16);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
  }
  msg.msg_name = &to;
  msg.msg_namelen = to_len;
  if (sendmsg(s.socket.native_handle(), &msg, MSG_DONTWAIT) < 0) {
    ++counters_.send_errors;
  } else {
    ++counters_.sent;
  }
}

}  // namespace traverse::transport
