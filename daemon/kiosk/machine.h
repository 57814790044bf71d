#pragma once
/// The kiosk's screen logic, free of I/O: events in (with the time they happen),
/// state out. The service runs it on one strand and arms one timer at deadline().

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cache/verdict.h"
#include "card/card_check.h"
#include "card/originality.h"
#include "common/error.h"

namespace kb::kiosk {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class Screen { Idle, Reading, Status, Guidance, Error };
std::string_view screenName(Screen screen);

struct Timeouts {
  std::chrono::milliseconds removal{20000};  ///< card removed -> idle
  std::chrono::milliseconds idle{90000};     ///< no touch -> idle
  std::chrono::milliseconds error{15000};    ///< error screen -> idle
};

/// What one tap resolved to: the card check and, for a genuine card, the
/// cache's typed verdict (serialised as docs/contracts.md §3 only in toJson()).
struct TapOutcome {
  card::CardCheck card_check = card::CardCheck::ReadError;
  card::Originality originality = card::Originality::NotSupported;
  std::optional<cache::Verdict> verdict;  ///< nullopt when there was no lookup
  bool no_cache = false;                  ///< no valid cache at all: nothing could be looked up
};

/// Screen and error code for a tap outcome (the table of docs/contracts.md §4).
struct ScreenChoice {
  Screen screen = Screen::Error;
  std::optional<std::string> error;
};
ScreenChoice classify(const TapOutcome& outcome);

/// A touch on the UI, sent over the WebSocket as a small JSON object.
struct UiAction {
  enum class Kind { Guidance, Back, Done, Touch } kind = Kind::Touch;
  std::string program;  ///< JKK, JKM or JKN for Guidance
};
/// MALFORMED for anything that is not one of the four actions.
Result<UiAction> parseAction(std::string_view text);

class Machine {
 public:
  Machine(Timeouts timeouts, std::string driver, bool demo, std::string public_guidance_url);

  // Each returns true when the visible state changed (seq was incremented).
  bool cardArrived(TimePoint now);
  bool cardRemoved(TimePoint now);
  bool tapResolved(const TapOutcome& outcome, TimePoint now);
  bool readerLost(TimePoint now);
  bool readerBack(TimePoint now);
  bool action(const UiAction& action, TimePoint now);
  bool setData(nlohmann::json data);
  /// Applies every timeout that has passed at `now`.
  bool expire(TimePoint now);

  /// When expire() next has something to do; nullopt when nothing is pending.
  std::optional<TimePoint> deadline() const;

  Screen screen() const { return screen_; }
  std::uint64_t seq() const { return seq_; }
  const std::optional<std::string>& error() const { return error_; }
  bool readerIsLost() const { return reader_lost_; }
  /// The trust root is a public DEV root: every state document says so ("dev": true).
  void setDev(bool dev) { dev_ = dev; }
  bool dev() const { return dev_; }
  /// The state document of docs/contracts.md §4.
  nlohmann::json toJson() const;

 private:
  void enter(Screen screen, std::optional<std::string> error, TimePoint now);
  void toIdle(TimePoint now);

  Timeouts timeouts_;
  std::string driver_;
  bool demo_;
  std::string url_;

  std::uint64_t seq_ = 1;
  Screen screen_ = Screen::Idle;
  std::optional<std::string> error_;
  std::optional<std::string> guidance_;
  // What the last tap resolved to; reset when the screen leaves it. Its holder data
  // is shown only on status and guidance, the verdict and card check on error screens too.
  std::optional<TapOutcome> tap_;
  nlohmann::json data_;
  bool reader_lost_ = false;
  bool dev_ = false;

  bool card_present_ = false;
  std::optional<TimePoint> removed_at_;
  TimePoint entered_at_{};
  TimePoint last_touch_{};
};

}  // namespace kb::kiosk
