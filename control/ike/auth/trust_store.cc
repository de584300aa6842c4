#include "control/ike/auth/trust_store.hh"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace traverse::ike {
namespace {

constexpr std::size_t max_crl_file = 16 << 20;  // CRLs of busy CAs grow large

struct StoreCtxFree {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};

// Names a verification failure the way an operator reads it.
std::string describe_failure(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate not yet valid";
    case X509_V_ERR_CERT_REVOKED:
      return "certificate revoked";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown CA (no path to a trust anchor)";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return "no CRL for the issuing CA (strict CRL policy)";
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return "CRL expired";
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return "CRL not yet valid";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
      return "CRL signature invalid";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "certificate signature invalid";
    case X509_V_ERR_INVALID_CA:
      return "issuer is not a CA";
    default:
      return X509_verify_cert_error_string(error);
  }
}

// Non-strict CRL policy: a missing CRL is not a failure (status unknown).
int lenient_crl_callback(int ok, X509_STORE_CTX* ctx) {
  if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  return ok;
}

}  // namespace

TrustStore::TrustStore() : store_(X509_STORE_new()) {}

Expected<void, std::string> TrustStore::add_anchor(const Certificate& ca) {
  if (!store_)
    return unexpected(std::string("out of memory"));
  if (!ca.is_ca())
    return unexpected("'" + ca.subject_text() + "' is not a CA certificate");
  Bytes hash = ca.public_key_sha1();
  for (const Bytes& known : anchor_hashes_) {
    if (known == hash)
      return {};  // the same key loaded twice
  }
  if (X509_STORE_add_cert(store_.get(), ca.native()) != 1) {
    ERR_clear_error();
    return unexpected("cannot add CA '" + ca.subject_text() + "'");
  }
  anchors_.push_back(ca);
  anchor_hashes_.push_back(std::move(hash));
  return {};
}

Expected<void, std::string> TrustStore::add_ca_file(const std::string& path) {
  auto certs = load_certificates(path);
  if (!certs)
    return unexpected(certs.error());
  for (const Certificate& cert : *certs) {
    if (auto added = add_anchor(cert); !added)
      return unexpected("'" + path + "': " + added.error());
  }
  return {};
}

Expected<void, std::string> TrustStore::add_crl_file(const std::string& path) {
  if (!store_)
    return unexpected(std::string("out of memory"));
  auto data = read_small_file(path, max_crl_file);
  if (!data)
    return unexpected(data.error());
  std::vector<std::unique_ptr<X509_CRL, CrlFree>> crls;
  std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  if (text.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      crls.emplace_back(crl);
    }
    ERR_clear_error();
  } else {
    const unsigned char* cursor = data->data();
    X509_CRL* crl = d2i_X509_CRL(nullptr, &cursor, static_cast<long>(data->size()));
    if (crl != nullptr)
      crls.emplace_back(crl);
    ERR_clear_error();
    if (crl != nullptr && cursor != data->data() + data->size()) {
      return unexpected("'" + path + "': trailing bytes after the DER CRL");
    }
  }
  if (crls.empty())
    return unexpected("'" + path + "' holds no CRL (PEM or DER)");
  for (auto& crl : crls) {
    if (X509_STORE_add_crl(store_.get(), crl.get()) != 1) {
      ERR_clear_error();
      return unexpected("'" + path + "': cannot add CRL");
    }
    ++crl_count_;
  }
  return {};
}

Expected<Certificate, std::string> TrustStore::verify(ByteView leaf_der,
                                                      const std::vector<Bytes>& intermediates_der,
                                                      std::time_t at) const {
  if (!store_)
    return unexpected(std::string("out of memory"));
  if (anchors_.empty())
    return unexpected(std::string("no trust anchors loaded"));
  if (intermediates_der.size() > max_intermediates) {
    return unexpected("peer sent " + std::to_string(intermediates_der.size()) +
                      " intermediate certificates, at most " + std::to_string(max_intermediates) +
                      " are accepted");
  }
  auto leaf = Certificate::from_der(leaf_der);
  if (!leaf)
    return unexpected("end-entity " + leaf.error());

  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  if (!untrusted)
    return unexpected(std::string("out of memory"));
  for (std::size_t i = 0; i < intermediates_der.size(); ++i) {
    auto cert = Certificate::from_der(intermediates_der[i]);
    if (!cert)
      return unexpected("intermediate " + std::to_string(i + 1) + ": " + cert.error());
    X509_up_ref(cert->native());
    if (sk_X509_push(untrusted.get(), cert->native()) <= 0) {
      X509_free(cert->native());
      return unexpected(std::string("out of memory"));
    }
  }

  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf->native(), untrusted.get()) != 1) {
    ERR_clear_error();
    return unexpected(std::string("cannot set up certificate verification"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, at);
  // Anchors need not be self-signed (an intermediate in cacerts is trusted).
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT;
  if (crl_count_ > 0)
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  X509_VERIFY_PARAM_set_flags(param, flags);
  if (crl_count_ > 0 && !strict_crl_)
    X509_STORE_CTX_set_verify_cb(ctx.get(), lenient_crl_callback);

  int verified = X509_verify_cert(ctx.get());
  if (verified != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    X509* culprit = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string who =
        culprit != nullptr ? Certificate::adopt(culprit).subject_text() : leaf->subject_text();
    ERR_clear_error();
    if (error == X509_V_OK)
      return unexpected("certificate verification failed for '" + who + "'");
    return unexpected(describe_failure(error) + ": '" + who + "'");
  }
  return leaf;
}

std::vector<Bytes> TrustStore::certreq_hashes() const {
  return anchor_hashes_;
}

bool TrustStore::has_anchor_hash(ByteView sha1) const {
  return anchor_for_hash(sha1) != nullptr;
}

const Certificate* TrustStore::anchor_for_hash(ByteView sha1) const {
  for (std::size_t i = 0; i < anchor_hashes_.size(); ++i) {
    if (std::equal(sha1.begin(), sha1.end(), anchor_hashes_[i].begin(), anchor_hashes_[i].end())) {
      return &anchors_[i];
    }
  }
  return nullptr;
}

}  // namespace traverse::ike
