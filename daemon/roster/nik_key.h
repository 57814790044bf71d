#pragma once
/// The staff profile's NIK key file, read the same way by `roster check` and
/// `publish`: the file's bytes, without a trailing line break, at least 16 bytes.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::roster {

/// IO if unreadable, MALFORMED if shorter than 16 bytes, TOO_LARGE past 4 KiB.
Result<std::string> readNikKey(const std::filesystem::path& path);

/// The staff profile's stand-in for a birth date: hex HMAC-SHA-256 under the
/// NIK key of "kartu-bahagia birth date", the card number and the date
/// (YYYY-MM-DD), NUL-separated. Bound to the card, so equal dates of two
/// holders differ; the console checks a date a caller states against it.
std::string birthDateHash(std::string_view nik_key, std::string_view card_no,
                          std::string_view birth_date);

}  // namespace kb::roster
