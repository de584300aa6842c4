// Identity patterns from configuration: which peer identities a connection
// profile accepts ("%any", "*.traverse.lab", "*@traverse.lab", an exact id, or
// a DN with "*" values such as "C=CH, O=Traverse, CN=*"). Immutable once
// parsed; matches() is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/ike/auth/identity.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

class IdentityPattern {
 public:
  static Expected<IdentityPattern, std::string> parse(std::string_view text);

  bool matches(const Identity& id) const;
  // The pattern as configured, for logs.
  const std::string& text() const { return text_; }

 private:
  enum class Kind {
    any,           // %any
    exact,         // one identity, compared with ==
    fqdn_suffix,   // *.domain: any FQDN strictly below the domain
    email_domain,  // *@domain: any email address at the domain
    dn_wildcard,   // a DN whose "*" values match any value of that attribute
  };
  IdentityPattern() = default;

  Kind kind_ = Kind::any;
  std::string text_;
  Identity exact_;
  std::string suffix_;           // fqdn_suffix (".domain") / email_domain ("@domain")
  std::vector<DnAttribute> dn_;  // dn_wildcard, value "*" = any
};

}  // namespace traverse::ike
