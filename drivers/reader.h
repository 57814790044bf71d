#pragma once
/// One small interface for a contactless card reader. Implementations: libnfc/
/// (real hardware, and the PN532 emulator in tests) and sim/ (demo and UI tests).
///
/// Threading: every method except abort() is called from one reader thread.
/// Every blocking call is bounded by its timeout and returns early soon after abort()
/// is called from another thread. "No card yet" is a value, not an error: errors are
/// only for real faults (READER_LOST, READ_ERROR, ...).

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

/// The reader's error codes, a std::error_code category of their own (common/error.h).
enum class ReaderErrc {
  NoCard = 1,  ///< NO_CARD: no card arrived within the wait (a command that needs one)
  ReadError,   ///< READ_ERROR: a card read failed part-way (the card left, a short answer)
  ReaderLost,  ///< READER_LOST: the reader went away or stopped answering
};

std::error_code make_error_code(ReaderErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::ReaderErrc> : std::true_type {};

namespace kb::reader {

enum class Chip { Ntag213, Ntag215, Ntag216, Unknown };
std::string_view chipName(Chip chip);  ///< "ntag213", ..., "unknown"

/// A card in the field, as identified by anticollision and GET_VERSION.
struct CardPresence {
  std::string uid;  ///< raw UID bytes (7 for NTAG21x)
  Chip chip = Chip::Unknown;
  std::string atqa_sak;  ///< raw ATQA (2 bytes) + SAK (1 byte), to tell MIFARE Classic apart
};

class Reader {
 public:
  virtual ~Reader() = default;

  /// Opens the device. IO or READER_LOST if it is not there.
  virtual Result<void> open() = 0;
  /// Waits up to `timeout` for a card: the card, or nullopt when none arrived in time or the
  /// wait was aborted. READER_LOST if the device went away.
  virtual Result<std::optional<CardPresence>> waitForCard(std::chrono::milliseconds timeout) = 0;
  /// Reads `count` 4-byte pages from `first`. READ_ERROR if the card left mid-read.
  virtual Result<std::string> readPages(int first, int count) = 0;
  /// NTAG21x READ_SIG: the 32-byte NXP originality signature, or nullopt if unsupported.
  virtual Result<std::optional<std::string>> readSignature() = 0;
  /// Writes 4-byte pages from `first` (data size a multiple of 4).
  virtual Result<void> writePages(int first, std::string_view data) = 0;
  /// True while the same card (by UID) is still in the field.
  virtual Result<bool> cardPresent() = 0;
  /// Thread-safe: makes the current or next blocking call return promptly.
  virtual void abort() = 0;
  virtual void close() = 0;
};

}  // namespace kb::reader
