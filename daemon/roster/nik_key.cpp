#include "roster/nik_key.h"

#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"

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

std::string birthDateHash(std::string_view nik_key, std::string_view card_no,
                          std::string_view birth_date) {
  std::string msg = "kartu-bahagia birth date";
  msg += '\0';
  msg += card_no;
  msg += '\0';
  msg += birth_date;
  return hexEncode(crypto::hmacSha256(nik_key, msg));
}

}  // namespace kb::roster
