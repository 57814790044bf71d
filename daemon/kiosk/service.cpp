#include "kiosk/service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kb::kiosk {

namespace {
constexpr auto kRefreshPeriod = std::chrono::seconds(30);

std::string outcomeName(const nlohmann::json& state) {
  if (state["screen"] == "status") return state["tap"].value("verdict", "UNKNOWN");
  if (state["error"].is_string()) return state["error"].get<std::string>();
  return "NONE";
}
}  // namespace

KioskService::KioskService(Strand strand, Machine machine, DataSource& data, Publish publish,
                           const Logger& log)
    : strand_(std::move(strand)),
      machine_(std::move(machine)),
      data_(data),
      publish_(std::move(publish)),
      log_(log),
      timer_(strand_),
      refresh_timer_(strand_) {}

void KioskService::start() {
  net::post(strand_, [this] {
    updateData();
    if (!last_status_.serving) log_.warning("kiosk", "no verified cache: " + last_status_.reason);
    changed();
    scheduleRefresh();
  });
}

void KioskService::stop() {
  net::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
    refresh_timer_.cancel();
  });
}

bool KioskService::updateData() {
  last_status_ = data_.status(nowSeconds());
  return machine_.setData(last_status_.data);
}

void KioskService::changed() {
  if (stopped_) return;
  publish_(std::make_shared<const std::string>(machine_.toJson().dump()));
  rearm();
}

void KioskService::rearm() {
  auto due = machine_.deadline();
  if (!due) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*due);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (machine_.expire(Clock::now()))
      changed();
    else
      rearm();
  });
}

void KioskService::scheduleRefresh() {
  refresh_timer_.expires_after(kRefreshPeriod);
  refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (updateData()) changed();
    scheduleRefresh();
  });
}

void KioskService::cardArrived() {
  net::post(strand_, [this] {
    log_.debug("kiosk", "card arrived");
    if (machine_.cardArrived(Clock::now())) changed();
  });
}

void KioskService::cardRead(CardReading reading) {
  net::post(strand_, [this, reading = std::move(reading)] {
    TapOutcome outcome;
    outcome.card_check = reading.card_check;
    outcome.originality = reading.originality;
    auto now = nowSeconds();
    if (reading.card_check == "GENUINE") {
      auto found = data_.lookup(reading.card_no, now);
      outcome.verdict = std::move(found.verdict);
      outcome.no_cache = found.no_cache;
    }
    updateData();
    ++card_checks_[reading.card_check];
    if (!machine_.tapResolved(outcome, Clock::now())) {
      changed();  // the data block may still have changed
      return;
    }
    auto state = machine_.toJson();
    auto outcome_name = outcomeName(state);
    ++taps_[outcome_name];
    // Never the card number, name or UID: only what kind of answer was given.
    std::string line =
        "tap card_check=" + reading.card_check + " originality=" + reading.originality;
    if (outcome.verdict.is_object())
      line += " verdict=" + outcome.verdict.value("verdict", "?") +
              " freshness=" + outcome.verdict.value("freshness", "?");
    line += " screen=" + state["screen"].get<std::string>();
    if (state["error"].is_string()) line += " error=" + state["error"].get<std::string>();
    log_.info("kiosk", line);
    changed();
  });
}

void KioskService::cardRemoved() {
  net::post(strand_, [this] {
    log_.debug("kiosk", "card removed");
    if (machine_.cardRemoved(Clock::now()))
      changed();
    else
      rearm();
  });
}

void KioskService::readerLost(std::string why) {
  net::post(strand_, [this, why = std::move(why)] {
    if (machine_.readerLost(Clock::now())) {
      ++reader_losses_;
      log_.warning("kiosk", "reader lost: " + why);
      changed();
    }
  });
}

void KioskService::readerBack() {
  net::post(strand_, [this] {
    if (machine_.readerBack(Clock::now())) {
      log_.info("kiosk", "reader back");
      changed();
    }
  });
}

void KioskService::uiAction(std::string text) {
  net::post(strand_, [this, text = std::move(text)] {
    auto action = parseAction(text);
    if (!action) {
      ++bad_actions_;
      log_.debug("kiosk", "ignored UI message: " + action.error().message);
      return;
    }
    if (machine_.action(*action, Clock::now()))
      changed();
    else
      rearm();  // a touch moves the deadlines
  });
}

net::awaitable<Health> KioskService::health() {
  co_return co_await net::co_spawn(
      strand_,
      [this]() -> net::awaitable<Health> {
        if (updateData()) changed();
        Health h;
        h.ok = last_status_.usable;
        h.body = {{"status", h.ok ? "ok" : "unavailable"},
                  {"reason", h.ok ? nlohmann::json(nullptr) : nlohmann::json(last_status_.reason)},
                  {"data", last_status_.data},
                  {"reader", machine_.readerIsLost() ? "lost" : "ready"},
                  {"screen", screenName(machine_.screen())}};
        co_return h;
      },
      net::use_awaitable);
}

net::awaitable<std::string> KioskService::metrics() {
  co_return co_await net::co_spawn(
      strand_,
      [this]() -> net::awaitable<std::string> {
        if (updateData()) changed();
        std::string out;
        out +=
            "# HELP kb_kiosk_taps_total Card taps by what the kiosk answered.\n# TYPE "
            "kb_kiosk_taps_total counter\n";
        for (const auto& [k, v] : taps_)
          out += "kb_kiosk_taps_total{outcome=\"" + k + "\"} " + std::to_string(v) + "\n";
        out +=
            "# HELP kb_card_checks_total Card credential checks by result.\n# TYPE "
            "kb_card_checks_total counter\n";
        for (const auto& [k, v] : card_checks_)
          out += "kb_card_checks_total{result=\"" + k + "\"} " + std::to_string(v) + "\n";
        out +=
            "# HELP kb_reader_up 1 while the card reader is connected.\n# TYPE kb_reader_up "
            "gauge\n";
        out += std::string("kb_reader_up ") + (machine_.readerIsLost() ? "0" : "1") + "\n";
        out +=
            "# HELP kb_reader_losses_total Times the reader went away.\n# TYPE "
            "kb_reader_losses_total counter\n";
        out += "kb_reader_losses_total " + std::to_string(reader_losses_) + "\n";
        out +=
            "# HELP kb_data_valid 1 while a verified, unexpired cache answers.\n# TYPE "
            "kb_data_valid gauge\n";
        out += std::string("kb_data_valid ") + (last_status_.usable ? "1" : "0") + "\n";
        if (last_status_.age_seconds) {
          out +=
              "# HELP kb_data_age_seconds Seconds since the served snapshot was signed.\n# TYPE "
              "kb_data_age_seconds gauge\n";
          out += "kb_data_age_seconds " + std::to_string(*last_status_.age_seconds) + "\n";
        }
        if (last_status_.serial) {
          out +=
              "# HELP kb_snapshot_serial Serial of the served snapshot.\n# TYPE kb_snapshot_serial "
              "gauge\n";
          out += "kb_snapshot_serial " + std::to_string(*last_status_.serial) + "\n";
        }
        out +=
            "# HELP kb_ui_bad_messages_total UI messages ignored as malformed.\n# TYPE "
            "kb_ui_bad_messages_total counter\n";
        out += "kb_ui_bad_messages_total " + std::to_string(bad_actions_) + "\n";
        out +=
            "# HELP kb_kiosk_state_seq Changes of the kiosk state so far.\n# TYPE "
            "kb_kiosk_state_seq counter\n";
        out += "kb_kiosk_state_seq " + std::to_string(machine_.seq()) + "\n";
        co_return out;
      },
      net::use_awaitable);
}

}  // namespace kb::kiosk
