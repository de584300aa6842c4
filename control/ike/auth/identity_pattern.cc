#include "control/ike/auth/identity_pattern.hh"

#include <cctype>

namespace traverse::ike {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool ends_with_nocase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

std::string_view as_text(const Bytes& data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace

Expected<IdentityPattern, std::string> IdentityPattern::parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  IdentityPattern pattern;
  pattern.text_ = std::string(text);
  if (text == "%any" || text == "*") {
    pattern.kind_ = Kind::any;
    return pattern;
  }
  if (text.starts_with("*.") || text.starts_with("*@")) {
    std::string_view domain = text.substr(2);
    if (domain.empty() || domain.find_first_of("*@= \t") != std::string_view::npos) {
      return unexpected("identity pattern '" + pattern.text_ +
                        "': expected *.domain or *@domain with a plain domain");
    }
    pattern.kind_ = text[1] == '.' ? Kind::fqdn_suffix : Kind::email_domain;
    pattern.suffix_ = std::string(text.substr(1));
    return pattern;
  }
  auto id = parse_identity(text);
  if (!id)
    return unexpected("identity pattern '" + pattern.text_ + "': " + id.error());
  if (id->type == id_type::der_asn1_dn) {
    auto attributes = dn_attributes(id->data);
    if (!attributes)
      return unexpected(attributes.error());
    bool wildcard = false;
    for (const auto& attribute : *attributes)
      wildcard = wildcard || attribute.value == "*";
    if (wildcard) {
      pattern.kind_ = Kind::dn_wildcard;
      pattern.dn_ = std::move(*attributes);
      return pattern;
    }
  } else if (as_text(id->data).find('*') != std::string_view::npos &&
             (id->type == id_type::fqdn || id->type == id_type::rfc822_addr)) {
    return unexpected("identity pattern '" + pattern.text_ +
                      "': '*' is only allowed as \"*.domain\", \"*@domain\" or a DN value");
  }
  pattern.kind_ = Kind::exact;
  pattern.exact_ = std::move(*id);
  return pattern;
}

bool IdentityPattern::matches(const Identity& id) const {
  switch (kind_) {
    case Kind::any:
      return true;
    case Kind::exact:
      return id == exact_;
    case Kind::fqdn_suffix:
      // Strictly below the domain: "*.traverse.lab" does not match "traverse.lab".
      return id.type == id_type::fqdn && id.data.size() > suffix_.size() &&
             ends_with_nocase(as_text(id.data), suffix_);
    case Kind::email_domain:
      return id.type == id_type::rfc822_addr && id.data.size() > suffix_.size() &&
             ends_with_nocase(as_text(id.data), suffix_);
    case Kind::dn_wildcard: {
      if (id.type != id_type::der_asn1_dn)
        return false;
      auto attributes = dn_attributes(id.data);
      // Same attributes in the same order; "*" stands for any one value.
      if (!attributes || attributes->size() != dn_.size())
        return false;
      for (std::size_t i = 0; i < dn_.size(); ++i) {
        const DnAttribute& want = dn_[i];
        const DnAttribute& have = (*attributes)[i];
        if (want.nid != have.nid)
          return false;
        if (want.value != "*" && !iequals(want.value, have.value))
          return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace traverse::ike
