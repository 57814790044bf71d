#pragma once
/// Reader over libnfc: ACR122U, PN532 on UART/I2C/SPI, and the PN532 emulator in tests.
/// Card detection polls single selects (never libnfc's infinite select), so every wait
/// is bounded; calls libnfc cannot bound itself are guarded by nfc_abort_command.

#include <chrono>
#include <memory>
#include <string>

#include "reader.h"

namespace kb::reader {

struct LibnfcOptions {
  std::string connstring;  ///< e.g. "pn532_uart:/dev/ttyUSB0"; empty = first device found
  std::chrono::milliseconds poll_interval{30};  ///< pause between selects while waiting for a card
  int exchange_timeout_ms = 300;                ///< one card command (READ, FAST_READ, WRITE, ...)
  std::chrono::milliseconds call_guard{
      1500};  ///< a select that has not answered by then is aborted
};

class LibnfcReader final : public Reader {
 public:
  explicit LibnfcReader(LibnfcOptions options);
  ~LibnfcReader() override;
  LibnfcReader(const LibnfcReader&) = delete;
  LibnfcReader& operator=(const LibnfcReader&) = delete;

  Result<void> open() override;
  Result<std::optional<CardPresence>> waitForCard(std::chrono::milliseconds timeout) override;
  Result<std::string> readPages(int first, int count) override;
  Result<std::optional<std::string>> readSignature() override;
  Result<void> writePages(int first, std::string_view data) override;
  Result<bool> cardPresent() override;
  void abort() override;
  void close() override;

  /// libnfc's name of the open device, empty when closed.
  std::string deviceName() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kb::reader
