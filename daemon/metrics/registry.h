#pragma once
/// The daemon's one metrics registry: counters and gauges with labels, filled by
/// whoever observes the event (kiosk service, web layer, sync worker) and written
/// as Prometheus text (exposition format 0.0.4) in one place, text(). No personal
/// data goes into a name, label or value. Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kb::metrics {

enum class Type { Counter, Gauge };

/// Label pairs, e.g. {{"outcome", "ACTIVE"}}; written in the order given.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  /// Declares a family; families are written in the order they were first
  /// declared. Declaring it again changes nothing. A counter family is always
  /// written (its HELP and TYPE even without samples); a gauge family without
  /// samples is left out (e.g. no data age while no snapshot is served).
  void declare(std::string_view name, Type type, std::string_view help);
  /// Adds `delta` to the sample with these labels (created at 0).
  void add(std::string_view name, const Labels& labels = {}, std::int64_t delta = 1);
  /// Sets the sample with these labels.
  void set(std::string_view name, std::int64_t value, const Labels& labels = {});
  /// Removes every sample of the family.
  void clear(std::string_view name);
  /// The sample's value; 0 if it does not exist.
  std::int64_t value(std::string_view name, const Labels& labels = {}) const;
  /// Runs `collector` at the start of every text(), to copy in values that are kept
  /// elsewhere (e.g. the sync worker's status, under its own mutex). Call at set-up.
  void addCollector(std::function<void(Registry&)> collector);
  /// Runs the collectors, then writes every family in the Prometheus text format.
  std::string text();

 private:
  struct Family {
    std::string name;
    Type type = Type::Counter;
    std::string help;
    std::map<std::string, std::int64_t> samples;  // by rendered label set ("" or {k="v",...})
  };
  Family& family(std::string_view name);  // throws std::logic_error if undeclared

  mutable std::mutex mu_;
  std::vector<Family> families_;
  std::vector<std::function<void(Registry&)>> collectors_;  // set up before the first text()
};

/// `{k="v",...}` with Prometheus escaping of \, " and newlines; "" for no labels.
std::string renderLabels(const Labels& labels);

}  // namespace kb::metrics
