#pragma once
// A deliberately small option parser: `--name value`, `--flag`, repeated options
// collected in order. Each command declares which options it knows, so a typo
// is an error instead of a silently ignored option.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace kb::cli {

class Args {
 public:
  /// `flags` take no value; `options` take one value and may repeat.
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::set<std::string>& options,
                            const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.contains(name); }
  std::optional<std::string> get(const std::string& name) const;
  const std::vector<std::string>& all(const std::string& name) const;
  Result<std::string> required(const std::string& name) const;
  Result<long long> integer(const std::string& name, std::optional<long long> fallback = {}) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace kb::cli
