#pragma once
/// Software reader for the demo and UI tests: cards are "tapped" by a call, no hardware.
/// tap/remove/unplug/replug are thread-safe and may be called while the reader thread waits.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "reader.h"

namespace kb::reader {

struct CardImage {
  std::string uid;  ///< raw UID bytes (7 for NTAG21x)
  Chip chip = Chip::Ntag213;
  std::string pages;                     ///< whole memory, 4 bytes per page (.mfd layout)
  std::optional<std::string> signature;  ///< 32-byte originality signature; nullopt = unsupported
  std::string atqa_sak = std::string("\x00\x44\x00", 3);  ///< NTAG21x by default
};

class SimReader final : public Reader {
 public:
  SimReader() = default;

  void tap(CardImage card);  ///< place a card (replaces the one in the field)
  void remove();             ///< take the card away
  void unplug();             ///< reader gone: calls fail with READER_LOST until replug()
  void replug();
  std::optional<CardImage> current() const;  ///< the card in the field, with any writes

  Result<void> open() override;
  Result<std::optional<CardPresence>> waitForCard(std::chrono::milliseconds timeout) override;
  Result<std::string> readPages(int first, int count) override;
  Result<std::optional<std::string>> readSignature() override;
  Result<void> writePages(int first, std::string_view data) override;
  Result<bool> cardPresent() override;
  void abort() override;
  void close() override;

 private:
  Result<void> usable() const;  // caller holds mu_

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::optional<CardImage> card_;
  std::uint64_t tap_serial_ = 0;  // a new tap of the same UID is a new card presence
  std::uint64_t seen_serial_ = 0;
  bool plugged_ = true;
  bool open_ = false;
  bool abort_ = false;
};

}  // namespace kb::reader
