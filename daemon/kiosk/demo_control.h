#pragma once
/// What the demo endpoints (docs/contracts.md §5) may do: list the demo cards and
/// put one on the simulated reader or take it away. Only exists in --demo.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace kb::kiosk {

class DemoControl {
 public:
  virtual ~DemoControl() = default;
  /// [{card_no, uid, label, expected_verdict, screen, error}]
  virtual nlohmann::json cards() const = 0;
  /// Places the card on the sim reader; `uid_hex` puts its credential on another chip (a clone).
  /// NOT_FOUND for an unknown card, MALFORMED for a bad UID. Thread-safe.
  virtual Result<void> tap(std::string_view card_no, const std::optional<std::string>& uid_hex) = 0;
  /// Takes the card off the sim reader. Thread-safe.
  virtual void remove() = 0;
};

}  // namespace kb::kiosk
