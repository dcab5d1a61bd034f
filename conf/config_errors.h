#pragma once
// Validation collects every problem of a file before giving up, so a user fixes
// them in one go; each entry names the file, the key, the value and what is allowed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/properties.h"

namespace starpipe::conf {

struct config_error {
  std::string source;
  std::string key;
  std::string value;
  std::string problem; // e.g. "must be an integer in [1000, 3600000]"
  std::string to_string() const;
};

class config_errors {
public:
  void add(const properties& p, const std::string& key, const std::string& problem);
  void add(config_error e) { errors_.push_back(std::move(e)); }
  bool empty() const { return errors_.empty(); }
  const std::vector<config_error>& all() const { return errors_; }
  std::string to_string() const; // one error per line

private:
  std::vector<config_error> errors_;
};

// Typed reads with the allowed range in the error text. A missing key yields the default.
int64_t read_long(const properties& p, const std::string& key, int64_t def, int64_t min, int64_t max,
                  config_errors& errs);
bool read_bool(const properties& p, const std::string& key, bool def, config_errors& errs);
std::string read_string(const properties& p, const std::string& key, const std::string& def);
std::optional<std::string> read_required(const properties& p, const std::string& key,
                                         bool allow_empty, config_errors& errs);

// Secrets are shown as [hidden] wherever configs are printed.
bool is_secret_key(const std::string& key);

} // namespace starpipe::conf
