// Reads one toml++ table for the gateway configuration: typed getters that
// record the first error as "file:line: qualified.key: message" and reject
// keys nobody asked for (a typo must not pass silently). Not thread-safe; one
// reader per table while parsing.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace traverse::gateway {

class TomlReader {
 public:
  // path_prefix is the table's qualified name ("control", "connection[0]").
  TomlReader(const toml::table& table, const std::string& origin, std::string path_prefix,
             std::string* error);
  ~TomlReader() = default;
  TomlReader(const TomlReader&) = delete;
  TomlReader& operator=(const TomlReader&) = delete;

  bool failed() const { return !error_->empty(); }
  // Records an error at the node's line (or the table's when node is null).
  void fail(const toml::node* node, const std::string& key, const std::string& what);
  void fail(const std::string& key, const std::string& what) { fail(table_.get(key), key, what); }

  const toml::node* get(const std::string& key);
  bool has(const std::string& key) const { return table_.contains(key); }

  bool integer(const std::string& key, int64_t* out, int64_t min, int64_t max);
  template <typename T>
  bool integer(const std::string& key, T* out, int64_t min, int64_t max) {
    int64_t value = 0;
    if (!integer(key, &value, min, max)) {
      return false;
    }
    *out = static_cast<T>(value);
    return true;
  }
  bool boolean(const std::string& key, bool* out);
  bool string(const std::string& key, std::string* out, bool required = false);
  // A string or an array of strings; present tells whether the key was there.
  std::vector<std::string> strings(const std::string& key, bool* present = nullptr);
  // One of the names in choices; the error lists them.
  bool choice(const std::string& key, const std::vector<std::string>& choices, std::string* out);

  void reject_unknown_keys();

  std::string qualified(const std::string& key) const;
  const std::string& origin() const { return origin_; }
  const toml::table& table() const { return table_; }

 private:
  const toml::table& table_;
  std::string origin_;
  std::string path_prefix_;
  std::string* error_;
  std::set<std::string> seen_;
};

// root[array_name][index][key] of an array of tables, or null (for error lines).
const toml::node* array_item_key(const toml::table& root, const std::string& array_name,
                                 std::size_t index, const std::string& key);

}  // namespace traverse::gateway
