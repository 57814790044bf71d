#include "roster/nik_key.h"

#include "common/encoding.h"
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

namespace {
std::string keyedHash(const NikKey& nik_key, std::string_view message) {
  auto hex = hexEncode(nik_key.mac(message));
  hex.resize(kKeyedHashHexDigits);
  return hex;
}
}  // namespace

std::string nikHash(const NikKey& nik_key, std::string_view nik) {
  return keyedHash(nik_key, nik);
}

bool keyedHashMatches(std::string_view stored, std::string_view computed) {
  if (computed.size() != kKeyedHashHexDigits || stored.size() < computed.size()) return false;
  unsigned diff = 0;  // no early exit: the time does not tell how many digits agree
  for (std::size_t i = 0; i < computed.size(); ++i)
    diff |= static_cast<unsigned char>(stored[i]) ^ static_cast<unsigned char>(computed[i]);
  return diff == 0;
}

std::string birthDateHash(const NikKey& nik_key, std::string_view card_no,
                          std::string_view birth_date) {
  std::string msg = "kartu-bahagia birth date";
  msg += '\0';
  msg += card_no;
  msg += '\0';
  msg += birth_date;
  return keyedHash(nik_key, msg);
}

}  // namespace kb::roster
