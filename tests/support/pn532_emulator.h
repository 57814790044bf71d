#pragma once
/// A PN532 on a pseudo-terminal, speaking the HSU (serial) host link so the real libnfc
/// pn532_uart driver talks to it: `pn532_uart:<path()>`. It emulates NTAG213/215/216
/// from a page image, a MIFARE Classic 1K or an ISO 14443-4 (bank) card, and faults.
///
/// Threading: one internal thread answers the host; every public method is thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::test {

enum class TagKind { Ntag213, Ntag215, Ntag216, MifareClassic1k, Iso14443_4 };

struct EmulatedCard {
  TagKind kind = TagKind::Ntag213;
  std::string uid;        ///< 7 bytes for NTAG21x, 4 otherwise; empty = taken from pages 0-1
  std::string memory;     ///< NTAG page image (4 bytes per page, .mfd layout); empty = blank tag
  std::string signature;  ///< 32-byte READ_SIG answer; empty = 32 zero bytes
};

int ntagPageCount(TagKind kind);  ///< 45, 135, 231; 0 for non-NTAG kinds
/// A factory-fresh NTAG21x image for a 7-byte UID: UID/BCC pages, CC, empty NDEF TLV,
/// dynamic lock and config pages with NXP's defaults (PWD ff.., AUTH0 ff).
std::string blankNtagImage(TagKind kind, std::string_view uid);
/// Rewrites pages 0-2 (UID, BCC0, BCC1) of an image for another 7-byte UID.
void setImageUid(std::string& image, std::string_view uid);

enum class Fault {
  None,
  Silent,              ///< swallow every frame: no ACK, no answer
  NoResponse,          ///< ACK, then never answer (`param` = only that command code; 0 = all)
  Garbage,             ///< ACK, then bytes that are not a frame
  CardGoneAfterReads,  ///< card leaves after `param` more READ/FAST_READ answers
  WritesIgnored,       ///< the card ACKs every WRITE but its memory does not change
};

struct EmulatorOptions {
  bool throttle = false;  ///< 115200 baud wire time (10 bits per byte) in both directions
  bool trace = false;     ///< log frames to stderr
};

struct EmulatorStats {
  std::uint64_t frames = 0;  ///< host information frames processed
  std::uint64_t bytesIn = 0;
  std::uint64_t bytesOut = 0;
};

class Pn532Emulator {
 public:
  static Result<std::unique_ptr<Pn532Emulator>> start(EmulatorOptions options = {});
  ~Pn532Emulator();
  Pn532Emulator(const Pn532Emulator&) = delete;
  Pn532Emulator& operator=(const Pn532Emulator&) = delete;

  const std::string& path() const;  ///< the pty slave, e.g. /dev/pts/3
  std::string connstring() const;   ///< "pn532_uart:" + path()

  void insert(EmulatedCard card);  ///< place a card in the field (replaces any other)
  void remove();                   ///< take it away
  bool cardPresent() const;
  std::optional<std::string> cardMemory() const;  ///< current NTAG image, after writes
  void setFault(Fault fault, int param = 0);
  void unplug();  ///< device gone: closes the pty; the host sees I/O errors
  EmulatorStats stats() const;

 private:
  struct State;
  explicit Pn532Emulator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kb::test
