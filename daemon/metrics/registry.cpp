#include "metrics/registry.h"

#include <algorithm>
#include <stdexcept>

namespace kb::metrics {

std::string renderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) out += ',';
    out += key;
    out += "=\"";
    for (char c : value) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '"')
        out += "\\\"";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Registry::Family& Registry::family(std::string_view name) {
  auto it = std::find_if(families_.begin(), families_.end(),
                         [&](const Family& f) { return f.name == name; });
  if (it == families_.end())
    throw std::logic_error("metric " + std::string(name) + " used before it was declared");
  return *it;
}

void Registry::declare(std::string_view name, Type type, std::string_view help) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_)
    if (f.name == name) return;
  families_.push_back({std::string(name), type, std::string(help), {}});
}

void Registry::add(std::string_view name, const Labels& labels, std::int64_t delta) {
  std::lock_guard lock(mu_);
  family(name).samples[renderLabels(labels)] += delta;
}

void Registry::set(std::string_view name, std::int64_t value, const Labels& labels) {
  std::lock_guard lock(mu_);
  family(name).samples[renderLabels(labels)] = value;
}

void Registry::clear(std::string_view name) {
  std::lock_guard lock(mu_);
  family(name).samples.clear();
}

std::int64_t Registry::value(std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f.name != name) continue;
    auto it = f.samples.find(renderLabels(labels));
    return it == f.samples.end() ? 0 : it->second;
  }
  return 0;
}

void Registry::addCollector(std::function<void(Registry&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::text() {
  std::vector<std::function<void(Registry&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect(*this);
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    if (f.type == Type::Gauge && f.samples.empty()) continue;
    out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(f.name).append(f.type == Type::Counter ? " counter\n"
                                                                        : " gauge\n");
    for (const auto& [labels, value] : f.samples)
      out.append(f.name).append(labels).append(" ").append(std::to_string(value)).append("\n");
  }
  return out;
}

}  // namespace kb::metrics
