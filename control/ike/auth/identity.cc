#include "control/ike/auth/identity.hh"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <memory>

namespace traverse::ike {
namespace {

// Config lines are short; anything longer is a mistake, not an identity.
constexpr std::size_t max_identity_text = 1024;

struct NameFree {
  void operator()(X509_NAME* name) const { X509_NAME_free(name); }
};
using NamePtr = std::unique_ptr<X509_NAME, NameFree>;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

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

// Parses DER as a complete X509_NAME: trailing octets make it invalid.
NamePtr parse_name(ByteView der) {
  if (der.empty() || der.size() > 65535)
    return nullptr;
  const unsigned char* cursor = der.data();
  NamePtr name(d2i_X509_NAME(nullptr, &cursor, static_cast<long>(der.size())));
  if (name && cursor != der.data() + der.size())
    return nullptr;
  return name;
}

std::string hex(ByteView data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t byte : data) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0f]);
  }
  return out;
}

std::string printable(ByteView data) {
  std::string out;
  for (uint8_t byte : data) {
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(static_cast<char>(byte));
    } else {
      static constexpr char digits[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(digits[byte >> 4]);
      out.push_back(digits[byte & 0x0f]);
    }
  }
  return out;
}

Expected<Bytes, std::string> parse_hex(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ':' || c == ' ')
      continue;
    int nibble;
    if (c >= '0' && c <= '9') {
      nibble = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      nibble = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      nibble = c - 'A' + 10;
    } else {
      return unexpected(std::string("invalid hex digit '") + c + "'");
    }
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  if (high >= 0)
    return unexpected(std::string("odd number of hex digits"));
  if (out.empty())
    return unexpected(std::string("empty key id"));
  return out;
}

// Attribute names strongSwan accepts that OpenSSL spells differently.
int attribute_nid(std::string_view key) {
  struct Alias {
    std::string_view name;
    int nid;
  };
  static constexpr std::array<Alias, 5> aliases{{{"E", NID_pkcs9_emailAddress},
                                                 {"email", NID_pkcs9_emailAddress},
                                                 {"S", NID_stateOrProvinceName},
                                                 {"SP", NID_stateOrProvinceName},
                                                 {"N", NID_name}}};
  for (const auto& alias : aliases) {
    if (iequals(alias.name, key))
      return alias.nid;
  }
  std::string name(key);
  int nid = OBJ_txt2nid(name.c_str());
  if (nid != NID_undef)
    return nid;
  // Short names are case-sensitive in OpenSSL ("CN", "OU"); configs are not.
  for (auto& c : name)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return OBJ_txt2nid(name.c_str());
}

Expected<Identity, std::string> parse_ip(std::string_view text) {
  std::string copy(text);
  Identity id;
  std::array<uint8_t, 16> address{};
  if (inet_pton(AF_INET, copy.c_str(), address.data()) == 1) {
    id.type = id_type::ipv4_addr;
    id.data.assign(address.begin(), address.begin() + 4);
    return id;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.data()) == 1) {
    id.type = id_type::ipv6_addr;
    id.data.assign(address.begin(), address.end());
    return id;
  }
  return unexpected("'" + copy + "' is not an IPv4 or IPv6 address");
}

Identity text_identity(uint8_t type, std::string_view text) {
  Identity id;
  id.type = type;
  id.data.assign(text.begin(), text.end());
  return id;
}

}  // namespace

bool operator==(const Identity& a, const Identity& b) {
  if (a.type != b.type)
    return false;
  if (a.data == b.data)
    return true;
  if (a.type != id_type::der_asn1_dn)
    return false;
  NamePtr left = parse_name(a.data);
  NamePtr right = parse_name(b.data);
  return left && right && X509_NAME_cmp(left.get(), right.get()) == 0;
}

Expected<Bytes, std::string> encode_dn(std::string_view text) {
  text = trim(text);
  if (text.empty())
    return unexpected(std::string("empty distinguished name"));
  if (text.size() > max_identity_text)
    return unexpected(std::string("DN too long"));
  NamePtr name(X509_NAME_new());
  if (!name)
    return unexpected(std::string("out of memory"));
  std::size_t pos = 0;
  if (text.front() == '/')
    pos = 1;  // "/C=CH/O=x" (OpenSSL's -subj syntax)
  while (pos < text.size()) {
    std::size_t equals = text.find('=', pos);
    if (equals == std::string_view::npos) {
      return unexpected("DN component '" + std::string(trim(text.substr(pos))) +
                        "' has no '=' (expected e.g. \"C=CH, O=Traverse, CN=gw\")");
    }
    std::string_view key = trim(text.substr(pos, equals - pos));
    int nid = attribute_nid(key);
    if (nid == NID_undef)
      return unexpected("unknown DN attribute '" + std::string(key) + "'");
    // Value: up to an unescaped, unquoted ',' or '/'.
    std::string value;
    bool quoted = false;
    std::size_t i = equals + 1;
    while (i < text.size() && text[i] == ' ')
      ++i;
    std::size_t trailing_spaces = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == '"') {
        quoted = !quoted;
        trailing_spaces = 0;
      } else if (c == '\\') {
        if (++i == text.size())
          return unexpected(std::string("DN ends in a lone '\\'"));
        value.push_back(text[i]);
        trailing_spaces = 0;
      } else if (!quoted && (c == ',' || c == '/')) {
        break;
      } else {
        value.push_back(c);
        trailing_spaces = c == ' ' ? trailing_spaces + 1 : 0;
      }
    }
    if (quoted)
      return unexpected(std::string("DN has an unterminated quote"));
    value.resize(value.size() - trailing_spaces);
    if (value.empty())
      return unexpected("DN attribute '" + std::string(key) + "' has no value");
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return unexpected("DN attribute '" + std::string(key) + "' cannot hold '" + value + "'");
    }
    pos = i + 1;
  }
  int length = i2d_X509_NAME(name.get(), nullptr);
  if (length <= 0)
    return unexpected(std::string("cannot encode DN"));
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_X509_NAME(name.get(), &out);
  return der;
}

Expected<std::string, std::string> dn_to_string(ByteView der) {
  NamePtr name = parse_name(der);
  if (!name)
    return unexpected(std::string("malformed DER distinguished name"));
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio)
    return unexpected(std::string("out of memory"));
  // strongSwan's order and look ("C=CH, O=Traverse, CN=gw"), RFC 2253
  // escaping so that parse_identity reads the text back to the same DN.
  constexpr unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_ESC_2253 |
                                  ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT |
                                  ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER;
  if (X509_NAME_print_ex(bio.get(), name.get(), 0, flags) < 0) {
    return unexpected(std::string("cannot print distinguished name"));
  }
  char* text = nullptr;
  long length = BIO_get_mem_data(bio.get(), &text);
  return std::string(text, static_cast<std::size_t>(length));
}

Expected<std::vector<DnAttribute>, std::string> dn_attributes(ByteView der) {
  NamePtr name = parse_name(der);
  if (!name)
    return unexpected(std::string("malformed DER distinguished name"));
  std::vector<DnAttribute> attributes;
  for (int i = 0; i < X509_NAME_entry_count(name.get()); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name.get(), i);
    DnAttribute attribute;
    attribute.nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (length < 0)
      return unexpected(std::string("DN attribute value is not a string"));
    attribute.value.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    attributes.push_back(std::move(attribute));
  }
  return attributes;
}

Expected<Identity, std::string> parse_identity(std::string_view text) {
  text = trim(text);
  if (text.empty())
    return unexpected(std::string("empty identity"));
  if (text.size() > max_identity_text)
    return unexpected(std::string("identity too long"));

  std::size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    std::string_view prefix = text.substr(0, colon);
    std::string_view rest = trim(text.substr(colon + 1));
    auto need_value = [&]() -> Expected<void, std::string> {
      if (rest.empty())
        return unexpected("identity '" + std::string(text) + "' has no value");
      return {};
    };
    if (iequals(prefix, "fqdn")) {
      if (auto ok = need_value(); !ok)
        return unexpected(ok.error());
      return text_identity(id_type::fqdn, rest);
    }
    if (iequals(prefix, "email") || iequals(prefix, "rfc822")) {
      if (auto ok = need_value(); !ok)
        return unexpected(ok.error());
      return text_identity(id_type::rfc822_addr, rest);
    }
    if (iequals(prefix, "ip") || iequals(prefix, "ipv4") || iequals(prefix, "ipv6")) {
      auto id = parse_ip(rest);
      if (id && ((iequals(prefix, "ipv4") && id->type != id_type::ipv4_addr) ||
                 (iequals(prefix, "ipv6") && id->type != id_type::ipv6_addr))) {
        return unexpected("'" + std::string(rest) + "' is not an " + std::string(prefix) +
                          " address");
      }
      return id;
    }
    if (iequals(prefix, "dn") || iequals(prefix, "asn1dn")) {
      auto der = encode_dn(rest);
      if (!der)
        return unexpected(der.error());
      return Identity{id_type::der_asn1_dn, std::move(*der)};
    }
    if (iequals(prefix, "keyid")) {
      auto bytes = parse_hex(rest);
      if (!bytes)
        return unexpected("key id '" + std::string(rest) + "': " + bytes.error());
      return Identity{id_type::key_id, std::move(*bytes)};
    }
  }

  if (auto ip = parse_ip(text))
    return ip;
  if (text.find('=') != std::string_view::npos) {
    auto der = encode_dn(text);
    if (!der)
      return unexpected(der.error());
    return Identity{id_type::der_asn1_dn, std::move(*der)};
  }
  std::size_t at = text.find('@');
  if (at != std::string_view::npos) {
    if (at == 0 || at + 1 == text.size()) {
      return unexpected("'" + std::string(text) + "' is not an email address (user@host)");
    }
    return text_identity(id_type::rfc822_addr, text);
  }
  if (text.find_first_of(" \t") != std::string_view::npos) {
    return unexpected("'" + std::string(text) +
                      "' is not an identity (expected fqdn:, email:, ip:, dn: or keyid:)");
  }
  return text_identity(id_type::fqdn, text);
}

std::string to_string(const Identity& id) {
  switch (id.type) {
    case id_type::fqdn:
    case id_type::rfc822_addr:
      return printable(id.data);
    case id_type::ipv4_addr:
    case id_type::ipv6_addr: {
      bool v4 = id.type == id_type::ipv4_addr;
      if (id.data.size() != (v4 ? 4u : 16u))
        return "malformed-ip:" + hex(id.data);
      std::array<char, INET6_ADDRSTRLEN> text{};
      inet_ntop(v4 ? AF_INET : AF_INET6, id.data.data(), text.data(), text.size());
      return text.data();
    }
    case id_type::der_asn1_dn: {
      auto text = dn_to_string(id.data);
      return text ? *text : "malformed-dn:" + hex(id.data);
    }
    case id_type::der_asn1_gn:
      return "gn:" + hex(id.data);
    case id_type::key_id:
      return "keyid:" + hex(id.data);
    default:
      return "id" + std::to_string(id.type) + ":" + hex(id.data);
  }
}

}  // namespace traverse::ike
