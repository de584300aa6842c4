#include "control/gateway/config_checks.hh"

#include <cctype>
#include <filesystem>
#include <fstream>

namespace traverse::gateway {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (unsigned char c : name) {
    if (std::isalnum(c) == 0 && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.front() == '.' || domain.back() == '.') {
    return false;
  }
  size_t label = 0;
  for (unsigned char c : domain) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
    } else if (std::isalnum(c) != 0 || c == '-' || c == '_') {
      if (++label > 63) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

std::string check_identity(std::string_view id) {
  if (id.empty()) {
    return "an empty identity";
  }
  const auto colon = id.find(':');
  const std::string_view kind = colon == std::string_view::npos ? "" : id.substr(0, colon);
  const std::string_view value = colon == std::string_view::npos ? id : id.substr(colon + 1);
  if (kind == "fqdn") {
    return valid_domain(value) ? "" : "'" + std::string(value) + "' is not a DNS name";
  }
  if (kind == "email") {
    return value.find('@') != std::string_view::npos && value.size() > 2
               ? ""
               : "'" + std::string(value) + "' is not user@domain";
  }
  if (kind == "ip") {
    auto address = Address::parse(value);
    return address ? "" : address.error();
  }
  if (kind == "dn") {
    return value.find('=') != std::string_view::npos ? ""
                                                     : "a dn: identity needs attributes (CN=...)";
  }
  if (kind == "keyid") {
    if (value.empty() || value.size() % 2 != 0) {
      return "a keyid: identity needs an even number of hex digits";
    }
    for (unsigned char c : value) {
      if (std::isxdigit(c) == 0) {
        return "a keyid: identity needs hex digits only";
      }
    }
    return "";
  }
  // No known prefix: the type is inferred, so anything printable goes (an
  // IPv6 address contains ':' too).
  for (unsigned char c : id) {
    if (std::iscntrl(c) != 0) {
      return "identities may not contain control characters";
    }
  }
  if (id.size() > 1024) {
    return "identities are at most 1024 characters";
  }
  return "";
}

std::string check_identity_pattern(std::string_view pattern) {
  if (pattern == "%any") {
    return "";
  }
  if (pattern.empty()) {
    return "an empty pattern (use \"%any\" to accept every identity)";
  }
  if (pattern.starts_with("ip:") || pattern.starts_with("keyid:")) {
    return check_identity(pattern);
  }
  // Wildcards ('*') are allowed in names, emails and DN attribute values.
  for (unsigned char c : pattern) {
    if (std::iscntrl(c) != 0) {
      return "patterns may not contain control characters";
    }
  }
  return "";
}

bool readable_file(TomlReader& r, const std::string& key, const std::string& base_dir,
                   std::string* path) {
  std::filesystem::path resolved(*path);
  if (path->empty()) {
    r.fail(key, "an empty file name");
    return false;
  }
  if (resolved.is_relative()) {
    resolved = std::filesystem::path(base_dir) / resolved;
  }
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(resolved, ec);
  if (!ec) {
    resolved = absolute.lexically_normal();
  }
  std::ifstream in(resolved);
  if (!in || !std::filesystem::is_regular_file(resolved, ec)) {
    r.fail(key, "cannot read '" + resolved.string() + "'");
    return false;
  }
  *path = resolved.string();
  return true;
}

void check_pool_overlaps(TomlReader& root, const std::vector<PoolSettings>& pools) {
  for (size_t i = 0; i < pools.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (pools[i].addresses.overlaps(pools[j].addresses)) {
        const toml::node* where = array_item_key(root.table(), "pool", i, "addresses");
        root.fail(where, "pool[" + std::to_string(i) + "].addresses",
                  pools[i].addresses.to_string() + " overlaps pool '" + pools[j].name + "' (" +
                      pools[j].addresses.to_string() + ")");
        return;
      }
    }
  }
}

}  // namespace traverse::gateway
