// Trust anchors and CRLs: verifies a peer's certificate chain (RFC 5280 path
// validation by OpenSSL) and answers CERTREQ authority hashes. Load everything
// at start-up or reload; afterwards const methods are safe from any thread.
#pragma once

#include <openssl/x509_vfy.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "control/ike/auth/certificate.hh"
#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// A peer sends at most this many intermediates; longer chains are refused
// before any path building.
inline constexpr std::size_t max_intermediates = 8;

class TrustStore {
 public:
  TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;
  TrustStore(TrustStore&&) noexcept = default;
  TrustStore& operator=(TrustStore&&) noexcept = default;
  ~TrustStore() = default;

  // Every certificate in the file (PEM bundle or one DER certificate) becomes
  // a trust anchor; like strongSwan's cacerts, an intermediate CA loaded here
  // is trusted as an anchor too.
  Expected<void, std::string> add_ca_file(const std::string& path);
  Expected<void, std::string> add_anchor(const Certificate& ca);
  // A CRL file (PEM, possibly several, or DER); its signature is checked
  // during verification against the issuing CA.
  Expected<void, std::string> add_crl_file(const std::string& path);

  // With CRLs loaded, every certificate in the chain is checked against its
  // issuer's CRL. A CA without a loaded CRL passes, as strongSwan's default
  // strictcrlpolicy=no does; strict mode requires a CRL for each issuer.
  void set_strict_crl(bool strict) { strict_crl_ = strict; }

  // Verifies leaf -> intermediates -> an anchor at time `at`. Returns the
  // leaf; errors say why ("certificate expired", "certificate revoked",
  // "unknown CA", ...) and name the certificate at fault.
  Expected<Certificate, std::string> verify(ByteView leaf_der,
                                            const std::vector<Bytes>& intermediates_der,
                                            std::time_t at) const;

  // SHA-1 of each anchor's SubjectPublicKeyInfo: the CERTREQ payload data is
  // their concatenation (RFC 7296 3.7).
  std::vector<Bytes> certreq_hashes() const;
  bool has_anchor_hash(ByteView sha1) const;
  // The anchor whose key hash this is, to pick the chain a peer asked for.
  const Certificate* anchor_for_hash(ByteView sha1) const;

  const std::vector<Certificate>& anchors() const { return anchors_; }
  std::size_t crl_count() const { return crl_count_; }

 private:
  struct StoreFree {
    void operator()(X509_STORE* store) const { X509_STORE_free(store); }
  };
  std::unique_ptr<X509_STORE, StoreFree> store_;
  std::vector<Certificate> anchors_;
  std::vector<Bytes> anchor_hashes_;
  std::size_t crl_count_ = 0;
  bool strict_crl_ = false;
};

}  // namespace traverse::ike
