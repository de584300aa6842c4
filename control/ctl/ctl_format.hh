// traversectl's human-readable output: turns the daemon's JSON results into
// aligned tables. Missing or mistyped fields print as "-", never fail.
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace traverse::ctl {

// Columns padded to their widest cell, two spaces apart.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// A field for display: strings as-is, numbers in decimal, booleans yes/no,
// arrays comma-separated, missing or null "-".
std::string field(const nlohmann::json& object, const std::string& key);

// The text traversectl prints for command's result.
std::string format_result(const std::string& command, const nlohmann::json& result);

}  // namespace traverse::ctl
