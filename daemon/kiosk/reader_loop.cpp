#include "kiosk/reader_loop.h"

#include "card/card_check.h"

namespace kb::kiosk {

ReaderLoop::ReaderLoop(reader::Reader& reader, const trust::TrustRoot& root,
                       std::vector<card::OriginalityKey> originality_keys, ReaderEvents& events,
                       const Logger& log)
    : root_(root), keys_(std::move(originality_keys)), events_(events), log_(log) {
  supervisor_ = std::make_unique<reader::ReaderSupervisor>(
      reader, [this](const reader::ReaderEvent& e, reader::Reader* r) { onEvent(e, r); });
}

ReaderLoop::~ReaderLoop() {
  stop();
}

void ReaderLoop::start() {
  supervisor_->start();
}

void ReaderLoop::stop() {
  supervisor_->stop();
}

void ReaderLoop::onEvent(const reader::ReaderEvent& event, reader::Reader* reader) {
  using Kind = reader::ReaderEvent::Kind;
  switch (event.kind) {
    case Kind::CardArrived: {
      events_.cardArrived();
      CardReading reading;  // READ_ERROR unless the card library says otherwise
      if (reader && event.card) {
        auto tap = card::identifyCard(*reader, *event.card, root_, keys_);
        if (tap) {
          reading.card_check = tap->verdict.check;
          reading.originality = tap->originality;
          if (tap->verdict.check == card::CardCheck::Genuine)
            reading.card_no = tap->verdict.card_no;
        } else {
          // The reader failed mid-tap; the supervisor notices and reports it lost.
          log_.debug("reader", "tap unanswered: " + tap.error().message);
        }
      }
      events_.cardRead(std::move(reading));
      break;
    }
    case Kind::CardRemoved:
      events_.cardRemoved();
      break;
    case Kind::ReaderLost:
      events_.readerLost(event.detail);
      break;
    case Kind::ReaderBack:
      events_.readerBack();
      break;
  }
}

}  // namespace kb::kiosk
