// Fuzzes the credential decoder and the full card check (CC + user memory) against
// a fixed trust root, as a forged card would reach them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "card/card_check.h"
#include "card/credential.h"
#include "trust/trust.h"

namespace {

// One root for the whole run, made once: key generation is not what we fuzz.
const kb::trust::TrustRoot& root() {
  static const kb::trust::TrustRoot r = [] {
    auto root_key = *kb::crypto::SigningKey::generate();
    auto other = *kb::crypto::SigningKey::generate();
    kb::trust::RootSpec spec;
    spec.expires = kb::nowSeconds() + 86400;
    spec.root_keys = {root_key.publicKey()};
    spec.snapshot_keys = {other.publicKey()};
    spec.card_keys = {other.publicKey()};
    return *kb::trust::TrustRoot::parse(kb::trust::makeRoot(spec, {root_key}), kb::nowSeconds());
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto credential = kb::card::decodeCredential(bytes);
  if (credential) {
    if (kb::card::encodeCredential(*credential) != bytes) __builtin_trap();  // decode is exact
    (void)kb::card::verifyCredential(root(), credential->uid, *credential);
  }
  // The same bytes as a card: first 4 are the CC, the rest user memory.
  if (size >= 4) {
    kb::reader::CardPresence presence{std::string("\x04\x01\x02\x03\x04\x05\x06", 7),
                                      kb::reader::Chip::Ntag216, std::string("\x00\x44\x00", 3)};
    auto v = kb::card::checkCard(root(), presence, bytes.substr(0, 4), bytes.substr(4));
    if (v.check == kb::card::CardCheck::Genuine) __builtin_trap();  // nobody holds the card key
  }
  return 0;
}
