#include "control/gateway/toml_reader.hh"

namespace traverse::gateway {

TomlReader::TomlReader(const toml::table& table, const std::string& origin, std::string path_prefix,
                       std::string* error)
    : table_(table), origin_(origin), path_prefix_(std::move(path_prefix)), error_(error) {}

void TomlReader::fail(const toml::node* node, const std::string& key, const std::string& what) {
  if (failed()) {
    return;  // the first error is the one worth reading
  }
  const toml::source_region& where = node != nullptr ? node->source() : table_.source();
  *error_ = origin_ + ":" + std::to_string(where.begin.line) + ": " + qualified(key) + ": " + what;
}

const toml::node* TomlReader::get(const std::string& key) {
  seen_.insert(key);
  return table_.get(key);
}

std::string TomlReader::qualified(const std::string& key) const {
  if (key.empty()) {
    return path_prefix_;
  }
  return path_prefix_.empty() ? key : path_prefix_ + "." + key;
}

bool TomlReader::integer(const std::string& key, int64_t* out, int64_t min, int64_t max) {
  const toml::node* node = get(key);
  if (node == nullptr) {
    return false;
  }
  const auto* value = node->as_integer();
  if (value == nullptr || value->get() < min || value->get() > max) {
    fail(node, key, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max));
    return false;
  }
  *out = value->get();
  return true;
}

bool TomlReader::boolean(const std::string& key, bool* out) {
  const toml::node* node = get(key);
  if (node == nullptr) {
    return false;
  }
  if (!node->is_boolean()) {
    fail(node, key, "expected true or false");
    return false;
  }
  *out = node->as_boolean()->get();
  return true;
}

bool TomlReader::string(const std::string& key, std::string* out, bool required) {
  const toml::node* node = get(key);
  if (node == nullptr) {
    if (required) {
      fail(nullptr, key, "missing (required)");
    }
    return false;
  }
  if (!node->is_string()) {
    fail(node, key, "expected a string");
    return false;
  }
  *out = node->as_string()->get();
  return true;
}

std::vector<std::string> TomlReader::strings(const std::string& key, bool* present) {
  std::vector<std::string> out;
  const toml::node* node = get(key);
  if (present != nullptr) {
    *present = node != nullptr;
  }
  if (node == nullptr) {
    return out;
  }
  if (node->is_string()) {
    out.push_back(node->as_string()->get());
    return out;
  }
  const auto* array = node->as_array();
  if (array == nullptr) {
    fail(node, key, "expected a string or an array of strings");
    return out;
  }
  for (const toml::node& item : *array) {
    if (!item.is_string()) {
      fail(&item, key, "expected strings only");
      return {};
    }
    out.push_back(item.as_string()->get());
  }
  return out;
}

bool TomlReader::choice(const std::string& key, const std::vector<std::string>& choices,
                        std::string* out) {
  std::string value;
  if (!string(key, &value)) {
    return false;
  }
  for (const std::string& accepted : choices) {
    if (value == accepted) {
      *out = value;
      return true;
    }
  }
  std::string list;
  for (const std::string& accepted : choices) {
    list += (list.empty() ? "" : " | ") + accepted;
  }
  fail(key, "'" + value + "' is not one of " + list);
  return false;
}

void TomlReader::reject_unknown_keys() {
  for (const auto& [key, node] : table_) {
    if (seen_.count(std::string(key.str())) == 0) {
      fail(&node, std::string(key.str()), "unknown key");
    }
  }
}

const toml::node* array_item_key(const toml::table& root, const std::string& array_name,
                                 std::size_t index, const std::string& key) {
  const toml::array* array = root[array_name].as_array();
  if (array == nullptr || index >= array->size()) {
    return nullptr;
  }
  const toml::table* table = array->get(index)->as_table();
  return table == nullptr ? nullptr : table->get(key);
}

}  // namespace traverse::gateway
