#pragma once
/// Runs the kiosk Machine on one strand: reader events and UI actions are
/// posted to it, one timer follows Machine::deadline(), every change is
/// published as a state document. The only place a tap is logged.

#include <functional>
#include <memory>
#include <string>
#include <utility>  // boost/asio/awaitable.hpp (1.74) needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "kiosk/data_source.h"
#include "kiosk/log.h"
#include "kiosk/machine.h"
#include "kiosk/reader_events.h"
#include "metrics/registry.h"

namespace kb::kiosk {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;

struct Health {
  bool ok = false;
  nlohmann::json body;
};

class KioskService : public ReaderEvents {
 public:
  using Publish = std::function<void(std::shared_ptr<const std::string>)>;

  /// Declares the kiosk's metric families in `registry` and fills them (taps, card
  /// checks, reader, data) as things happen; `registry` must outlive the service.
  KioskService(Strand strand, Machine machine, DataSource& data, Publish publish, const Logger& log,
               metrics::Registry& registry);

  /// Publishes the first state and starts the periodic data refresh.
  void start();
  /// Whether the trust state's serial is also kept in a TPM NV counter (tpm_tcti):
  /// /healthz then says "tpm": "counter". Call before start().
  void setTpmCounter(bool used) { tpm_counter_ = used; }
  /// Cancels the timers (thread-safe).
  void stop();

  // ReaderEvents, thread-safe: each posts to the strand.
  void cardArrived() override;
  void cardRead(CardReading reading) override;
  void cardRemoved() override;
  void readerLost(std::string why) override;
  void readerBack() override;

  /// A WebSocket message from the UI (thread-safe). Bad actions are ignored.
  void uiAction(std::string text);

  /// Answered on the strand.
  net::awaitable<Health> health();
  /// The registry's Prometheus text, with the kiosk's gauges brought up to date.
  net::awaitable<std::string> metrics();
  metrics::Registry& registry() { return registry_; }
  /// Re-reads the data source now (thread-safe), e.g. when a sync has finished.
  void refreshData();

 private:
  void setGauges();  ///< reader, data and state gauges from the machine and last_status_
  void changed();
  void rearm();
  void scheduleRefresh();
  bool updateData();

  Strand strand_;
  bool tpm_counter_ = false;
  Machine machine_;
  DataSource& data_;
  Publish publish_;
  const Logger& log_;
  net::steady_timer timer_;
  net::steady_timer refresh_timer_;
  bool stopped_ = false;
  metrics::Registry& registry_;
  DataStatus last_status_;
  std::string last_code_;
};

}  // namespace kb::kiosk
