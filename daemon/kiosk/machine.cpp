#include "kiosk/machine.h"

#include <algorithm>

#include "schema/schema.h"

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
  if (outcome.no_cache || !outcome.verdict) return {Screen::Error, "NO_DATA"};
  switch (outcome.verdict->verdict) {
    case cache::VerdictCode::Active:
    case cache::VerdictCode::Inactive:
      return {Screen::Status, std::nullopt};
    case cache::VerdictCode::Blocked:
      return {Screen::Error, "BLOCKED"};
    case cache::VerdictCode::NotFound:
      return {Screen::Error, "NOT_FOUND"};
    case cache::VerdictCode::Unverifiable:
      break;
  }
  if (outcome.verdict->freshness == cache::Freshness::Expired)
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
    if (!schema::isGuidanceProgram(action.program))
      return fail(Errc::Malformed,
                  "guidance program must be " + schema::listText(schema::kGuidancePrograms));
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
  tap_.reset();
  guidance_.reset();
  enter(Screen::Idle, std::nullopt, now);
}

bool Machine::cardArrived(TimePoint now) {
  card_present_ = true;
  removed_at_.reset();
  last_touch_ = now;
  reader_lost_ = false;  // a card event proves the reader is there
  tap_.reset();
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
  tap_ = outcome;
  last_touch_ = now;
  enter(choice.screen, choice.error, now);
  return true;
}

bool Machine::readerLost(TimePoint now) {
  if (reader_lost_) return false;
  reader_lost_ = true;
  card_present_ = false;
  removed_at_.reset();
  tap_.reset();
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
  // The one place a tap's verdict becomes JSON. The holder's data (card, coverages)
  // only on status and guidance; the verdict and card check on every screen a tap
  // leads to, error screens included.
  const bool shows_holder = screen_ == Screen::Status || screen_ == Screen::Guidance;
  const bool shows_tap = shows_holder || (screen_ == Screen::Error && !reader_lost_);
  const auto* verdict = tap_ && tap_->verdict ? &*tap_->verdict : nullptr;
  j["tap"] = nullptr;
  if (shows_holder && verdict) {
    j["tap"] = cache::toJson(*verdict);
    j["tap"]["card_check"] = card::cardCheckName(tap_->card_check);
    j["tap"]["originality"] = card::originalityName(tap_->originality);
  }
  j["verdict"] = nullptr;
  j["freshness"] = nullptr;
  j["card_check"] = nullptr;
  j["originality"] = nullptr;
  if (shows_tap && tap_) {
    if (verdict) {
      j["verdict"] = cache::verdictName(verdict->verdict);
      j["freshness"] = cache::freshnessName(verdict->freshness);
    }
    j["card_check"] = card::cardCheckName(tap_->card_check);
    j["originality"] = card::originalityName(tap_->originality);
  }
  j["reader"] = {{"status", reader_lost_ ? "lost" : "ready"}, {"driver", driver_}};
  j["data"] = data_;
  j["demo"] = demo_;
  j["dev"] = dev_;
  j["public_guidance_url"] = url_;
  return j;
}

}  // namespace kb::kiosk
