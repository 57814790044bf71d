#include "roster/nik_key.h"

#include "common/files.h"

namespace kb::roster {

Result<std::string> readNikKey(const std::filesystem::path& path) {
  auto key = readFile(path, 4096);
  if (!key) return std::unexpected(key.error());
  // Editors add a final newline; it is not part of the key.
  while (!key->empty() && (key->back() == '\n' || key->back() == '\r')) key->pop_back();
  if (key->size() < 16)
    return fail(Errc::Malformed, path.string() + ": NIK key must be at least 16 bytes");
  return std::move(*key);
}

}  // namespace kb::roster
