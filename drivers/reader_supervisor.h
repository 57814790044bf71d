#pragma once
/// Runs a Reader on its own thread: polls for cards, detects removal by re-polling
/// (debounced), reopens a lost reader with capped exponential backoff, and reports
/// everything as events. Nothing but this thread touches the Reader while it runs.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "reader.h"

namespace kb::reader {

struct ReaderEvent {
  enum class Kind { CardArrived, CardRemoved, ReaderLost, ReaderBack };
  Kind kind;
  std::optional<CardPresence> card;  ///< set for CardArrived
  std::string detail;                ///< error text for ReaderLost (no personal data)
};

struct SupervisorOptions {
  std::chrono::milliseconds wait_slice{200};         ///< one waitForCard call; bounds stop latency
  std::chrono::milliseconds presence_interval{100};  ///< pause between removal checks
  int removal_debounce = 2;                          ///< consecutive misses before CardRemoved
  std::chrono::milliseconds miss_recheck{40};  ///< pause after a miss: a glitch is not a removal
  std::chrono::milliseconds backoff_start{100};
  std::chrono::milliseconds backoff_max{2000};
};

class ReaderSupervisor {
 public:
  /// Called on the reader thread. For CardArrived `reader` is the open reader, usable
  /// (readPages, readSignature, writePages) until the callback returns; otherwise null.
  /// Post work to an io_context from here rather than blocking for long.
  using Callback = std::function<void(const ReaderEvent&, Reader* reader)>;

  /// `reader` is borrowed and must outlive the supervisor.
  ReaderSupervisor(Reader& reader, Callback callback, SupervisorOptions options = {});
  ~ReaderSupervisor();
  ReaderSupervisor(const ReaderSupervisor&) = delete;
  ReaderSupervisor& operator=(const ReaderSupervisor&) = delete;

  void start();
  /// Aborts the reader's current call, joins the thread and closes the reader.
  void stop();

 private:
  void run();
  bool sleepFor(std::chrono::milliseconds d);  ///< false when stopping
  void emit(ReaderEvent::Kind kind, std::optional<CardPresence> card = std::nullopt,
            std::string detail = {}, Reader* reader = nullptr);

  Reader& reader_;
  Callback callback_;
  SupervisorOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kb::reader
