#include "drivers/port/ethdev_port.hh"

#include <rte_dev.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <string_view>

namespace traverse::port {

std::string device_name(const std::string& devargs) {
  return devargs.substr(0, devargs.find(','));
}

std::optional<EthPort> EthPort::open(const PortSetup& setup, std::string* error) {
  EthPort port;
  port.name = device_name(setup.devargs);
  if (rte_eth_dev_get_port_by_name(port.name.c_str(), &port.id) != 0) {
    // Not probed by the EAL yet (vdevs given in the config, not on the command line).
    if (int rc = rte_dev_probe(setup.devargs.c_str()); rc != 0) {
      *error = "cannot probe device '" + setup.devargs + "': " + rte_strerror(-rc);
      return std::nullopt;
    }
    if (rte_eth_dev_get_port_by_name(port.name.c_str(), &port.id) != 0) {
      *error = "device '" + setup.devargs + "' probed but no ethdev named '" + port.name + "'";
      return std::nullopt;
    }
  }
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port.id, &info); rc != 0) {
    *error = port.name + ": cannot read device info: " + rte_strerror(-rc);
    return std::nullopt;
  }
  port.rx_queues = std::min<uint16_t>(setup.workers, std::max<uint16_t>(info.max_rx_queues, 1));
  if (info.max_tx_queues < setup.workers) {
    *error = port.name + ": has " + std::to_string(info.max_tx_queues) + " TX queues, " +
             std::to_string(setup.workers) +
             " workers need one each (af_packet: add qpairs=N to the devargs)";
    return std::nullopt;
  }
  port.tx_queues = setup.workers;

  rte_eth_conf conf{};
  const uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
  // af_packet's queues are PACKET_FANOUT_HASH members: the kernel keeps a
  // flow on one queue, as RSS would.
  const bool spreads_flows =
      setup.queues_spread_flows ||
      (info.driver_name != nullptr && std::string_view(info.driver_name) == "net_af_packet");
  if (port.rx_queues > 1 && rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    port.rss = true;
  } else if (port.rx_queues > 1 && !spreads_flows) {
    // Without RSS the device would deliver everything to queue 0 anyway.
    port.rx_queues = 1;
  }
  if (int rc = rte_eth_dev_configure(port.id, port.rx_queues, port.tx_queues, &conf); rc != 0) {
    *error = port.name + ": configure failed: " + rte_strerror(-rc);
    return std::nullopt;
  }
  // MTU setting is best effort: vdevs without the op keep their own.
  rte_eth_dev_set_mtu(port.id, setup.mtu);
  uint16_t rx_desc = setup.rx_descriptors;
  uint16_t tx_desc = setup.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &rx_desc, &tx_desc);
  const int socket = rte_eth_dev_socket_id(port.id);
  const unsigned socket_id = socket < 0 ? 0u : static_cast<unsigned>(socket);
  for (uint16_t q = 0; q < port.rx_queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port.id, q, rx_desc, socket_id, nullptr, setup.pool);
        rc != 0) {
      *error = port.name + ": RX queue " + std::to_string(q) + ": " + rte_strerror(-rc);
      return std::nullopt;
    }
  }
  for (uint16_t q = 0; q < port.tx_queues; ++q) {
    if (int rc = rte_eth_tx_queue_setup(port.id, q, tx_desc, socket_id, nullptr); rc != 0) {
      *error = port.name + ": TX queue " + std::to_string(q) + ": " + rte_strerror(-rc);
      return std::nullopt;
    }
  }
  if (int rc = rte_eth_dev_start(port.id); rc != 0) {
    *error = port.name + ": start failed: " + rte_strerror(-rc);
    return std::nullopt;
  }
  if (setup.promiscuous) {
    rte_eth_promiscuous_enable(port.id);
  }
  rte_eth_macaddr_get(port.id, &port.mac);
  return port;
}

void EthPort::close() {
  rte_eth_dev_stop(id);
  rte_eth_dev_close(id);
}

}  // namespace traverse::port
