#include "bin/kbctl/args.h"

#include <charconv>

namespace kb::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& options,
                         const std::set<std::string>& flags) {
  Args a;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (!arg.starts_with("--")) {
      a.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    if (flags.contains(name)) {
      a.values_[name].push_back("");
    } else if (options.contains(name)) {
      if (i + 1 >= argv.size()) return fail(Errc::Usage, "option --" + name + " needs a value");
      a.values_[name].push_back(argv[++i]);
    } else {
      return fail(Errc::Usage, "unknown option " + arg + " (see --help)");
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

Result<std::string> Args::required(const std::string& name) const {
  auto v = get(name);
  if (!v) return fail(Errc::Usage, "missing --" + name + " (see --help)");
  return *v;
}

Result<long long> Args::integer(const std::string& name, std::optional<long long> fallback) const {
  auto v = get(name);
  if (!v) {
    if (fallback) return *fallback;
    return fail(Errc::Usage, "missing --" + name + " (see --help)");
  }
  long long out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || end != v->data() + v->size())
    return fail(Errc::Usage, "--" + name + " takes a whole number, not '" + *v + "'");
  return out;
}

}  // namespace kb::cli
