#pragma once
/// The staff profile's NIK key file, read the same way by `roster check` and
/// `publish`: the file's bytes, without a trailing line break, at least 16 bytes.

#include <filesystem>
#include <string>

#include "common/error.h"

namespace kb::roster {

/// IO if unreadable, MALFORMED if shorter than 16 bytes, TOO_LARGE past 4 KiB.
Result<std::string> readNikKey(const std::filesystem::path& path);

}  // namespace kb::roster
