// Client credentials for the load generator. Certificate mode mints one
// ECDSA P-256 key and certificate per identity (SAN rfc822Name = the
// identity), signed by the lab CA, so every tunnel is a distinct, valid
// client as a responder checks it. Not thread-safe: one generator thread.
#pragma once

#include <memory>
#include <string>

#include "control/ike/auth/certificate.hh"
#include "control/ike/auth/trust_store.hh"
#include "control/ike/result.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::bench {

class ClientCertificateMint {
 public:
  // ca_cert/ca_key: PEM files of the CA that signs the clients; it is also
  // the trust anchor for the responder's certificate.
  static Expected<ClientCertificateMint, std::string> load(const std::string& ca_cert,
                                                           const std::string& ca_key);

  // A fresh key and a certificate for `email`, valid from an hour ago for a
  // week, chained to the CA (the chain holds the leaf only: the CA is the
  // responder's anchor).
  Expected<std::shared_ptr<const ike::Credentials>, std::string> mint(const std::string& email);

  const std::shared_ptr<const ike::TrustStore>& trust() const { return trust_; }

 private:
  ClientCertificateMint(ike::Certificate ca, ike::PrivateKey key,
                        std::shared_ptr<const ike::TrustStore> trust)
      : ca_(std::move(ca)), ca_key_(std::move(key)), trust_(std::move(trust)) {}

  ike::Certificate ca_;
  ike::PrivateKey ca_key_;
  std::shared_ptr<const ike::TrustStore> trust_;
  long serial_ = 1000;
};

}  // namespace traverse::bench
