#include "bench/runners.hh"

#include "dataplane/esp/byte_order.hh"

namespace traverse::bench {
namespace {

IMB_MGR* hash_manager() {
  static IMB_MGR* const mgr = make_hash_manager(bench_thread().ipsec_mb());
  return mgr != nullptr ? mgr : bench_thread().ipsec_mb();
}

}  // namespace

template <CbcMode mode>
std::unique_ptr<RawIpsecMb> make_raw_ipsec_mb(crypto::Transform transform,
                                              const esp::SaConfig& config, std::string* error) {
  auto raw = RawIpsecMb::create(
      bench_thread().ipsec_mb(), hash_manager(), transform,
      {config.cipher_key.data(), config.salt.data(), config.auth_key.data()}, mode);
  if (!raw) {
    *error = "ipsec-mb refused the transform";
  }
  return raw;
}

template std::unique_ptr<RawIpsecMb> make_raw_ipsec_mb<CbcMode::split>(crypto::Transform,
                                                                       const esp::SaConfig&,
                                                                       std::string*);
template std::unique_ptr<RawIpsecMb> make_raw_ipsec_mb<CbcMode::chained>(crypto::Transform,
                                                                         const esp::SaConfig&,
                                                                         std::string*);

std::unique_ptr<RawOpenssl> make_raw_openssl(crypto::Transform transform,
                                             const esp::SaConfig& config, std::string* error) {
  auto raw = RawOpenssl::create(
      transform, {config.cipher_key.data(), config.salt.data(), config.auth_key.data()});
  if (!raw) {
    *error = "OpenSSL refused the transform";
  }
  return raw;
}

std::unique_ptr<SessionCipher> make_session(crypto::Transform transform,
                                            const esp::SaConfig& config, std::string* error) {
  auto session = crypto::CipherSession::create(
      config.backend, transform, {config.cipher_key, config.salt, config.auth_key}, error);
  if (!session) {
    return nullptr;
  }
  return std::make_unique<SessionCipher>(std::move(session), bench_thread());
}

std::string EspRunner::setup(const CaseSpec& spec) {
  const esp::SaConfig config = outbound_config(spec.transform, spec.backend, spec.udp);
  set_.emplace(*spec.size, spec.transform, spec.udp);
  std::string error;
  if (spec.direction == Direction::encrypt) {
    outbound_ = esp::OutboundSa::create(config, &error);
    return error;
  }
  error = set_->seal_all(config);
  if (error.empty()) {
    inbound_ = esp::InboundSa::create(inbound_config(config), &error);
  }
  return error;
}

template <class Cipher>
std::string check_same_work(Cipher& cipher, const PacketSet& set, const esp::SaConfig& config) {
  const bool aead = crypto::transform_info(config.transform).aead;
  uint64_t seq = config.first_sequence;
  for (const PacketSlot& p : set.slots) {
    p.restore_outer();
    uint8_t* esp = p.esp_start();
    if (!cipher.open(esp, p.layout.payload_len)) {
      return "the baseline does not verify the ESP packet";
    }
    if (!aead) {
      // CBC: the IV field held the encrypted nonce block; put the nonce back.
      esp::store_be64(esp + 8, seq);
      esp::store_be32(esp + 16, config.spi);
      esp::store_be32(esp + 20, 0);
    }
    ++seq;
    if (!cipher.seal(esp, p.layout.payload_len) ||
        std::memcmp(esp - p.layout.outer_len, p.outer.data(), p.outer.size()) != 0) {
      return "the baseline does not reproduce the ESP packet";
    }
  }
  return {};
}

template std::string check_same_work(RawIpsecMb&, const PacketSet&, const esp::SaConfig&);
template std::string check_same_work(RawOpenssl&, const PacketSet&, const esp::SaConfig&);
template std::string check_same_work(SessionCipher&, const PacketSet&, const esp::SaConfig&);

std::string MemcpyRunner::setup(const CaseSpec& spec) {
  set_.emplace(*spec.size, spec.transform, false);
  return set_->seal_all(outbound_config(spec.transform, crypto::Backend::ipsec_mb, false));
}

}  // namespace traverse::bench
