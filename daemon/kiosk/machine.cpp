#include "kiosk/machine.h"

#include <algorithm>

namespace kb::kiosk {

std::string_view screenName(Screen screen) {
  switch (screen) {
    case Screen::Idle:
      return "idle";
    case Screen::Reading:
      return "reading";
    case Screen::Status:
      return "status";
    case Screen::Guidance:
      return "guidance";
    case Screen::Error:
      return "error";
  }
  return "idle";
}

ScreenChoice classify(const TapOutcome& outcome) {
  switch (outcome.card_check) {
    case card::CardCheck::Genuine:
      break;
    case card::CardCheck::ReadError:
      return {Screen::Error, "READ_ERROR"};
    case card::CardCheck::UnknownFormat:
      return {Screen::Error, "NOT_KARTU_BAHAGIA"};
    case card::CardCheck::Cloned:
    case card::CardCheck::Forged:
      return {Screen::Error, "CANNOT_VERIFY_CARD"};  // calm: no accusation on screen
  }
  if (outcome.no_cache || !outcome.verdict.is_object()) return {Screen::Error, "NO_DATA"};
  const std::string verdict = outcome.verdict.value("verdict", "");
  if (verdict == "ACTIVE" || verdict == "INACTIVE") return {Screen::Status, std::nullopt};
  if (verdict == "BLOCKED") return {Screen::Error, "BLOCKED"};
  if (verdict == "NOT_FOUND") return {Screen::Error, "NOT_FOUND"};
  if (verdict == "UNVERIFIABLE" && outcome.verdict.value("freshness", "") == "EXPIRED")
    return {Screen::Error, "DATA_TOO_OLD"};
  // UNVERIFIABLE with fresh data means the stored record failed its integrity check.
  return {Screen::Error, "CANNOT_VERIFY_CARD"};
}

Result<UiAction> parseAction(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(Errc::Malformed, "action is not a JSON object");
  auto it = doc.find("action");
  if (it == doc.end() || !it->is_string())
    return fail(Errc::Malformed, "action has no \"action\" string");
  const auto& name = it->get_ref<const std::string&>();
  UiAction action;
  if (name == "guidance") {
    action.kind = UiAction::Kind::Guidance;
    auto p = doc.find("program");
    if (p == doc.end() || !p->is_string()) return fail(Errc::Malformed, "guidance needs a program");
    action.program = p->get<std::string>();
    if (action.program != "JKK" && action.program != "JKM" && action.program != "JKN")
      return fail(Errc::Malformed, "guidance program must be JKK, JKM or JKN");
  } else if (name == "back") {
    action.kind = UiAction::Kind::Back;
  } else if (name == "done") {
    action.kind = UiAction::Kind::Done;
  } else if (name == "touch") {
    action.kind = UiAction::Kind::Touch;
  } else {
    return fail(Errc::Malformed, "unknown action");
  }
  return action;
}

Machine::Machine(Timeouts timeouts, std::string driver, bool demo, std::string public_guidance_url)
    : timeouts_(timeouts),
      driver_(std::move(driver)),
      demo_(demo),
      url_(std::move(public_guidance_url)) {
  data_ = {{"freshness", "NONE"},       {"serial", nullptr},      {"signed_at", nullptr},
           {"expires_at", nullptr},     {"age_seconds", nullptr}, {"last_sync", nullptr},
           {"last_sync_error", nullptr}};
}

void Machine::enter(Screen screen, std::optional<std::string> error, TimePoint now) {
  screen_ = screen;
  error_ = std::move(error);
  entered_at_ = now;
  ++seq_;
}

void Machine::toIdle(TimePoint now) {
  // Privacy: leaving a tap forgets it entirely.
  tap_ = nullptr;
  check_ = nullptr;
  guidance_.reset();
  enter(Screen::Idle, std::nullopt, now);
}

bool Machine::cardArrived(TimePoint now) {
  card_present_ = true;
  removed_at_.reset();
  last_touch_ = now;
  reader_lost_ = false;  // a card event proves the reader is there
  tap_ = nullptr;
  check_ = nullptr;
  guidance_.reset();
  enter(Screen::Reading, std::nullopt, now);
  return true;
}

bool Machine::cardRemoved(TimePoint now) {
  card_present_ = false;
  removed_at_ = now;
  // A card pulled mid-read: the read result (READ_ERROR) follows and is shown.
  return false;
}

bool Machine::tapResolved(const TapOutcome& outcome, TimePoint now) {
  if (screen_ != Screen::Reading) return false;  // abandoned (reader lost) before it resolved
  auto choice = classify(outcome);
  // The verdict and card check are reported on every screen a tap leads to, error
  // screens included; the holder's data (card, coverages) only on status and guidance.
  const bool looked_up = outcome.verdict.is_object();
  check_ = {{"verdict", looked_up ? outcome.verdict.value("verdict", nlohmann::json(nullptr))
                                  : nlohmann::json(nullptr)},
            {"freshness", looked_up ? outcome.verdict.value("freshness", nlohmann::json(nullptr))
                                    : nlohmann::json(nullptr)},
            {"card_check", card::cardCheckName(outcome.card_check)},
            {"originality", card::originalityName(outcome.originality)}};
  if (choice.screen == Screen::Status) {
    tap_ = outcome.verdict;
    tap_["card_check"] = card::cardCheckName(outcome.card_check);
    tap_["originality"] = card::originalityName(outcome.originality);
  } else {
    tap_ = nullptr;
  }
  last_touch_ = now;
  enter(choice.screen, choice.error, now);
  return true;
}

bool Machine::readerLost(TimePoint now) {
  if (reader_lost_) return false;
  reader_lost_ = true;
  card_present_ = false;
  removed_at_.reset();
  tap_ = nullptr;
  check_ = nullptr;
  guidance_.reset();
  enter(Screen::Error, "READER_LOST", now);
  return true;
}

bool Machine::readerBack(TimePoint now) {
  if (!reader_lost_) return false;
  reader_lost_ = false;
  toIdle(now);
  return true;
}

bool Machine::action(const UiAction& action, TimePoint now) {
  last_touch_ = now;
  switch (action.kind) {
    case UiAction::Kind::Touch:
      return false;
    case UiAction::Kind::Guidance:
      if (screen_ != Screen::Status && screen_ != Screen::Guidance) return false;
      if (screen_ == Screen::Guidance && guidance_ == action.program) return false;
      guidance_ = action.program;
      enter(Screen::Guidance, std::nullopt, now);
      return true;
    case UiAction::Kind::Back:
      if (screen_ != Screen::Guidance) return false;
      guidance_.reset();
      enter(Screen::Status, std::nullopt, now);
      return true;
    case UiAction::Kind::Done:
      if (screen_ == Screen::Idle || screen_ == Screen::Reading || reader_lost_) return false;
      toIdle(now);
      return true;
  }
  return false;
}

bool Machine::setData(nlohmann::json data) {
  if (data == data_) return false;
  data_ = std::move(data);
  ++seq_;
  return true;
}

std::optional<TimePoint> Machine::deadline() const {
  std::optional<TimePoint> due;
  auto earliest = [&due](TimePoint t) { due = due ? std::min(*due, t) : t; };
  switch (screen_) {
    case Screen::Idle:
      break;
    case Screen::Reading:
      // The reader always reports a result; this only guards against a lost one.
      earliest(entered_at_ + timeouts_.error);
      break;
    case Screen::Status:
      earliest(last_touch_ + timeouts_.idle);
      if (removed_at_) earliest(*removed_at_ + timeouts_.removal);
      break;
    case Screen::Guidance:
      earliest(last_touch_ + timeouts_.idle);
      // Someone reading guidance with the card already back in the wallet keeps it open by
      // touching.
      if (removed_at_) earliest(std::max(*removed_at_, last_touch_) + timeouts_.removal);
      break;
    case Screen::Error:
      if (reader_lost_) break;  // stays until the reader is back
      earliest(entered_at_ + timeouts_.error);
      if (removed_at_) earliest(std::max(*removed_at_, entered_at_) + timeouts_.removal);
      break;
  }
  return due;
}

bool Machine::expire(TimePoint now) {
  auto due = deadline();
  if (!due || now < *due) return false;
  toIdle(now);
  return true;
}

nlohmann::json Machine::toJson() const {
  nlohmann::json j;
  j["seq"] = seq_;
  j["screen"] = screenName(screen_);
  j["error"] = error_ ? nlohmann::json(*error_) : nlohmann::json(nullptr);
  j["guidance"] = guidance_ ? nlohmann::json(*guidance_) : nlohmann::json(nullptr);
  j["tap"] =
      (screen_ == Screen::Status || screen_ == Screen::Guidance) ? tap_ : nlohmann::json(nullptr);
  const bool shows_tap = screen_ == Screen::Status || screen_ == Screen::Guidance ||
                         (screen_ == Screen::Error && !reader_lost_);
  for (const char* key : {"verdict", "freshness", "card_check", "originality"})
    j[key] = shows_tap && check_.is_object() ? check_[key] : nlohmann::json(nullptr);
  j["reader"] = {{"status", reader_lost_ ? "lost" : "ready"}, {"driver", driver_}};
  j["data"] = data_;
  j["demo"] = demo_;
  j["dev"] = dev_;
  j["public_guidance_url"] = url_;
  return j;
}

}  // namespace kb::kiosk
