#pragma once
/// The staff profile's NIK key file, read the same way by `roster check` and
/// `publish`: the file's bytes, without a trailing line break, at least 16 bytes.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"
#include "crypto/crypto.h"

namespace kb::roster {

/// IO if unreadable, MALFORMED if shorter than 16 bytes, TOO_LARGE past 4 KiB.
Result<std::string> readNikKey(const std::filesystem::path& path);

/// The staff profile's keyed hashes are HMAC-SHA-256 under the NIK key cut to
/// their first 128 bits, written as 32 lower-case hex digits (docs/formats.md
/// says why 128 bits are enough). Bundles made before the cut hold all 64 digits.
inline constexpr std::size_t kKeyedHashHexDigits = 32;

/// The NIK key set up for hashing many values (see crypto::HmacSha256).
using NikKey = crypto::HmacSha256;

/// The NIK's keyed hash: the staff record's `nik_hash` and the console's NIK search key.
std::string nikHash(const NikKey& nik_key, std::string_view nik);

/// The staff profile's stand-in for a birth date: the keyed hash of
/// "kartu-bahagia birth date", the card number and the date (YYYY-MM-DD),
/// NUL-separated. Bound to the card, so equal dates of two holders differ; the
/// console checks a date a caller states against it.
std::string birthDateHash(const NikKey& nik_key, std::string_view card_no,
                          std::string_view birth_date);

/// True if a stored keyed hash (32 hex digits, or 64 from an older bundle) is
/// `computed` (32 digits): the older form starts with the newer one. Constant
/// time in the compared bytes.
bool keyedHashMatches(std::string_view stored, std::string_view computed);

}  // namespace kb::roster
