#include "kiosk/service.h"

#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kb::kiosk {

namespace {
constexpr auto kRefreshPeriod = std::chrono::seconds(30);

// "counter": the serial is also in the TPM's NV counter (tpm_tcti). Otherwise the
// trust state lives in a file only, and a root attacker who wipes the state
// directory can roll the kiosk back (docs/architecture.md, "Threats"): say
// whether a TPM could have helped.
const char* tpmStatus(bool counter) {
  if (counter) return "counter";
  std::error_code ec;
  const bool present =
      std::filesystem::exists("/dev/tpmrm0", ec) || std::filesystem::exists("/dev/tpm0", ec);
  return present ? "present_unused" : "absent";
}
}  // namespace

KioskService::KioskService(Strand strand, Machine machine, DataSource& data, Publish publish,
                           const Logger& log, metrics::Registry& registry)
    : strand_(std::move(strand)),
      machine_(std::move(machine)),
      data_(data),
      publish_(std::move(publish)),
      log_(log),
      timer_(strand_),
      refresh_timer_(strand_),
      registry_(registry) {
  using metrics::Type;
  auto& r = registry_;
  r.declare("kb_kiosk_taps_total", Type::Counter, "Card taps by what the kiosk answered.");
  r.declare("kb_card_checks_total", Type::Counter, "Card credential checks by result.");
  r.declare("kb_reader_up", Type::Gauge, "1 while the card reader is connected.");
  r.declare("kb_reader_losses_total", Type::Counter, "Times the reader went away.");
  r.declare("kb_data_valid", Type::Gauge, "1 while a verified, unexpired cache answers.");
  r.declare("kb_data_age_seconds", Type::Gauge, "Seconds since the served snapshot was signed.");
  r.declare("kb_snapshot_serial", Type::Gauge, "Serial of the served snapshot.");
  r.declare("kb_data_problems_total", Type::Counter,
            "Times the data became refused or degraded, by code (ROLLBACK, FALLBACK, ...).");
  r.declare("kb_data_problem", Type::Gauge,
            "1 for the code of the refusal or degradation in force (the /healthz code); "
            "absent while the data is sound.");
  r.declare("kb_dev_root", Type::Gauge,
            "1 when the trust root is a public DEV root (never for citizens).");
  r.declare("kb_ui_bad_messages_total", Type::Counter, "UI messages ignored as malformed.");
  r.declare("kb_kiosk_state_seq", Type::Counter, "Changes of the kiosk state so far.");
  r.add("kb_reader_losses_total", {}, 0);
  r.add("kb_ui_bad_messages_total", {}, 0);
  setGauges();
}

void KioskService::setGauges() {
  registry_.set("kb_reader_up", machine_.readerIsLost() ? 0 : 1);
  registry_.set("kb_dev_root", machine_.dev() ? 1 : 0);
  registry_.set("kb_kiosk_state_seq", static_cast<std::int64_t>(machine_.seq()));
  registry_.set("kb_data_valid", last_status_.usable ? 1 : 0);
  registry_.clear("kb_data_problem");
  if (!last_status_.code.empty())
    registry_.set("kb_data_problem", 1, {{"code", last_status_.code}});
  if (last_status_.age_seconds)
    registry_.set("kb_data_age_seconds", *last_status_.age_seconds);
  else
    registry_.clear("kb_data_age_seconds");
  if (last_status_.serial)
    registry_.set("kb_snapshot_serial", *last_status_.serial);
  else
    registry_.clear("kb_snapshot_serial");
}

void KioskService::start() {
  net::post(strand_, [this] {
    updateData();  // logs a refusal or fallback once
    if (machine_.dev())
      log_.warning("kiosk", "trust root is a public DEV root (allow_dev_root): never for citizens");
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
  if (last_status_.code != last_code_) {
    // One line and one count per change: a refusal or fallback is never silent.
    if (!last_status_.code.empty()) {
      registry_.add("kb_data_problems_total", {{"code", last_status_.code}});
      log_.warning("kiosk", "data " + last_status_.code + ": " + last_status_.reason);
    } else if (!last_code_.empty()) {
      log_.info("kiosk",
                "data verified again: serial " + std::to_string(last_status_.serial.value_or(0)));
    }
    last_code_ = last_status_.code;
  }
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

void KioskService::refreshData() {
  net::post(strand_, [this] {
    if (!stopped_ && updateData()) changed();
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
    if (reading.card_check == card::CardCheck::Genuine) {
      auto found = data_.lookup(reading.card_no, now);
      outcome.verdict = std::move(found.verdict);
      outcome.no_cache = found.no_cache;
    }
    updateData();
    const std::string check(card::cardCheckName(reading.card_check));
    registry_.add("kb_card_checks_total", {{"result", check}});
    if (!machine_.tapResolved(outcome, Clock::now())) {
      changed();  // the data block may still have changed
      return;
    }
    const auto& error = machine_.error();
    const auto& verdict = outcome.verdict;
    registry_.add("kb_kiosk_taps_total",
                  {{"outcome", machine_.screen() == Screen::Status && verdict
                                   ? std::string(cache::verdictName(verdict->verdict))
                                   : error.value_or("NONE")}});
    // Never the card number, name or UID: only what kind of answer was given.
    std::string line = "tap card_check=" + check +
                       " originality=" + std::string(card::originalityName(reading.originality));
    if (verdict)
      line += " verdict=" + std::string(cache::verdictName(verdict->verdict)) +
              " freshness=" + std::string(cache::freshnessName(verdict->freshness));
    line += " screen=" + std::string(screenName(machine_.screen()));
    if (error) line += " error=" + *error;
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
      registry_.add("kb_reader_losses_total");
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
      registry_.add("kb_ui_bad_messages_total");
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
        // Healthy means a citizen can be served: verified current data and a reader.
        Health h;
        const bool reader_lost = machine_.readerIsLost();
        std::string code = last_status_.code;
        std::string reason = last_status_.reason;
        if (code.empty() && !last_status_.usable) code = "NO_CACHE";
        if (code.empty() && reader_lost) {
          code = "READER_LOST";
          reason = "the card reader is not connected";
        }
        h.ok = code.empty();
        h.body = {{"status", h.ok ? "ok" : "unavailable"},
                  {"code", h.ok ? nlohmann::json(nullptr) : nlohmann::json(code)},
                  {"reason", h.ok ? nlohmann::json(nullptr) : nlohmann::json(reason)},
                  {"dev", machine_.dev()},
                  {"tpm", tpmStatus(tpm_counter_)},
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
        setGauges();
        std::string out = registry_.text();
        co_return out;
      },
      net::use_awaitable);
}

}  // namespace kb::kiosk
