#pragma once
/// What the reader thread tells the kiosk. Implementations post to their own
/// strand: these are called from the reader thread.

#include <string>

#include "card/card_check.h"
#include "card/originality.h"

namespace kb::kiosk {

/// One card read and checked on the reader thread (card library), no lookup yet.
struct CardReading {
  card::CardCheck card_check = card::CardCheck::ReadError;
  card::Originality originality = card::Originality::NotSupported;
  std::string card_no;  ///< set for GENUINE: the number the credential proves
};

class ReaderEvents {
 public:
  virtual ~ReaderEvents() = default;
  virtual void cardArrived() = 0;
  virtual void cardRead(CardReading reading) = 0;
  virtual void cardRemoved() = 0;
  virtual void readerLost(std::string why) = 0;
  virtual void readerBack() = 0;
};

}  // namespace kb::kiosk
