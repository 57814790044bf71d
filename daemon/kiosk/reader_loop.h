#pragma once
/// Joins the drivers' ReaderSupervisor (the one thread that touches the reader)
/// to the kiosk: on each arrival the card is read and checked with the card
/// library right there on the reader thread (the supervisor lends the reader
/// only inside its callback), and every step is reported to ReaderEvents.

#include <memory>
#include <vector>

#include "card/originality.h"
#include "kiosk/log.h"
#include "kiosk/reader_events.h"
#include "reader.h"
#include "reader_supervisor.h"

namespace kb::trust {
class TrustRoot;
}

namespace kb::kiosk {

class ReaderLoop {
 public:
  /// `reader`, `root`, `events` and `log` are borrowed and must outlive the loop.
  ReaderLoop(reader::Reader& reader, const trust::TrustRoot& root,
             std::vector<card::OriginalityKey> originality_keys, ReaderEvents& events,
             const Logger& log);
  ~ReaderLoop();
  ReaderLoop(const ReaderLoop&) = delete;
  ReaderLoop& operator=(const ReaderLoop&) = delete;

  void start();
  /// Aborts the current reader call and joins the thread (bounded).
  void stop();

 private:
  void onEvent(const reader::ReaderEvent& event, reader::Reader* reader);

  const trust::TrustRoot& root_;
  std::vector<card::OriginalityKey> keys_;
  ReaderEvents& events_;
  const Logger& log_;
  std::unique_ptr<reader::ReaderSupervisor> supervisor_;
};

}  // namespace kb::kiosk
