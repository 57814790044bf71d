#include "crypto/pin.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "common/encoding.h"

namespace kb::crypto {
namespace {

constexpr std::uint64_t kN = 1u << 15, kR = 8, kP = 1;
constexpr std::size_t kSaltBytes = 16, kKeyBytes = 32;

struct Parsed {
  std::uint64_t n = 0, r = 0, p = 0;
  std::string salt, key;
};

Result<Parsed> parse(std::string_view s) {
  std::vector<std::string_view> parts;
  for (std::size_t at = 0;;) {
    auto next = s.find('$', at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  auto bad = [](const std::string& why) {
    return fail(Errc::Config, "operator_pin_hash: " + why + " (write it with kbctl operator-pin)");
  };
  if (parts.size() != 6 || parts[0] != "scrypt") return bad("not scrypt$N$r$p$salt$key");
  Parsed p;
  std::uint64_t* fields[] = {&p.n, &p.r, &p.p};
  for (int i = 0; i < 3; ++i) {
    auto part = parts[static_cast<std::size_t>(i) + 1];
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), *fields[i]);
    if (ec != std::errc() || end != part.data() + part.size()) return bad("N, r, p are integers");
  }
  if (p.n < (1u << 14) || p.n > (1u << 20) || (p.n & (p.n - 1)) != 0)
    return bad("N must be a power of two from 2^14 to 2^20");
  if (p.r < 8 || p.r > 16 || p.p < 1 || p.p > 4) return bad("r must be 8-16 and p 1-4");
  auto salt = hexDecode(parts[4]);
  auto key = hexDecode(parts[5]);
  if (!salt || salt->size() < kSaltBytes || !key || key->size() != kKeyBytes)
    return bad("salt (>= 16 bytes) and key (32 bytes) are hex");
  p.salt = std::move(*salt);
  p.key = std::move(*key);
  return p;
}

Result<std::string> derive(std::string_view pin, const std::string& salt, std::uint64_t n,
                           std::uint64_t r, std::uint64_t p) {
  std::string out(kKeyBytes, '\0');
  const std::uint64_t maxmem = 128 * r * n + (64u << 20);
  if (EVP_PBE_scrypt(pin.data(), pin.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), n, r, p, maxmem, reinterpret_cast<unsigned char*>(out.data()),
                     out.size()) != 1)
    return fail(Errc::Internal, "scrypt failed");
  return out;
}

}  // namespace

Result<void> checkPinFormat(std::string_view pin) {
  if (pin.size() < kPinMinDigits || pin.size() > kPinMaxDigits)
    return fail(Errc::Usage, "the PIN must be 6-12 digits");
  for (char c : pin)
    if (c < '0' || c > '9') return fail(Errc::Usage, "the PIN must be 6-12 digits");
  return {};
}

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

Result<std::string> hashPin(std::string_view pin) {
  if (auto f = checkPinFormat(pin); !f) return std::unexpected(f.error());
  const std::string salt = randomBytes(kSaltBytes);
  auto key = derive(pin, salt, kN, kR, kP);
  if (!key) return std::unexpected(key.error());
  return "scrypt$" + std::to_string(kN) + "$" + std::to_string(kR) + "$" + std::to_string(kP) +
         "$" + hexEncode(salt) + "$" + hexEncode(*key);
}

Result<void> checkPinHash(std::string_view stored) {
  auto p = parse(stored);
  if (!p) return std::unexpected(p.error());
  return {};
}

Result<bool> verifyPin(std::string_view stored, std::string_view pin) {
  auto p = parse(stored);
  if (!p) return std::unexpected(p.error());
  if (!checkPinFormat(pin)) return false;  // never hashes what could not be a PIN
  auto key = derive(pin, p->salt, p->n, p->r, p->p);
  if (!key) return std::unexpected(key.error());
  return CRYPTO_memcmp(key->data(), p->key.data(), kKeyBytes) == 0;
}

}  // namespace kb::crypto
