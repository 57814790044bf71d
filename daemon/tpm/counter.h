#pragma once
/// The trust state's serial, also kept in a TPM 2.0 NV monotonic counter, so
/// that wiping the whole state directory and importing an old bundle again is
/// still refused (the counter is in the TPM, not on the disk).
///
/// Design: one NV index of type counter at kNvIndex whose value is the highest
/// snapshot serial accepted. A counter can only go up (NV_Increment adds one);
/// it is raised to a serial by incrementing until it reaches it, which is
/// bounded because serials are (at most kMaxStep increments per raise; a larger
/// jump is refused and the operator re-keys, see docs/operations.md). A counter
/// cannot be rewound by undefining and defining it again: the TPM starts a new
/// counter at the highest value any counter on it ever had, and this code
/// increments a counter that was never written before reading it, so a fresh
/// index reads at least the old value plus one. No second index is needed.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"

namespace kb::tpm {

inline constexpr std::uint32_t kNvIndex = 0x01500016;  ///< the project's NV index (owner range)
inline constexpr std::int64_t kMaxStep = 1'000'000;    ///< increments in one raise

/// The TCTI to use for a config/option value: "none" → none; empty → the
/// kernel's resource manager "device:/dev/tpmrm0" when it exists, else none;
/// anything else is a TCTI configuration string as tpm2-tss reads it
/// ("device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321").
std::optional<std::string> resolveTcti(const std::string& configured);

class Counter {
 public:
  /// Connects through `tcti` and defines the counter if it is missing. Io when
  /// the TPM cannot be reached or refuses.
  static Result<Counter> open(const std::string& tcti);
  Counter(Counter&&) noexcept;
  Counter& operator=(Counter&&) noexcept;
  ~Counter();

  /// The counter's value (the highest serial accepted on this machine).
  Result<std::int64_t> value();
  /// Increments until the value is at least `serial`; returns the value now.
  Result<std::int64_t> raiseTo(std::int64_t serial);

 private:
  struct Impl;
  explicit Counter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kb::tpm
