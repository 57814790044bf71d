#pragma once
/// The kelurahan operator's PIN (docs/contracts.md §4, "Operator"): only a
/// salted scrypt hash is stored (config key operator_pin_hash), written by
/// `kbctl operator-pin`. Form: "scrypt$N$r$p$<salt hex>$<key hex>".

#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::crypto {

inline constexpr std::size_t kPinMinDigits = 6, kPinMaxDigits = 12;

/// 6-12 ASCII digits, else Usage.
Result<void> checkPinFormat(std::string_view pin);
/// A fresh 16-byte salt, scrypt N=2^15 r=8 p=1, 32-byte key.
Result<std::string> hashPin(std::string_view pin);
/// The stored form parses and its parameters are not weaker than N=2^14 (Config if not).
Result<void> checkPinHash(std::string_view stored);
/// Whether `pin` matches `stored` (constant-time comparison).
Result<bool> verifyPin(std::string_view stored, std::string_view pin);
/// `n` bytes from the OpenSSL CSPRNG.
std::string randomBytes(std::size_t n);

}  // namespace kb::crypto
