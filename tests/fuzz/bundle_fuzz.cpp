// libFuzzer target: the bundle reader and verifier over arbitrary bytes, with a
// fixed test trust root (TEST KEY, never used anywhere else), so that seeds in
// corpus/bundle/ are validly signed and mutations reach the body checks.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache/bundle.h"
#include "cache/record_codec.h"

namespace {

// FUZZ TEST KEY: signs the seed corpus only.
constexpr std::string_view kTestKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOTg8cGJi+OMgG1kiwgY2qU68GCgYeiQHwjshw9cbmQO\n"
    "-----END PRIVATE KEY-----\n";
constexpr kb::UnixSeconds kNow = 1'795'219'200;  // 2026-11-21T00:00:00Z; seeds expire 2027

const kb::trust::TrustRoot& testRoot() {
  static const kb::trust::TrustRoot root = [] {
    auto key = kb::crypto::SigningKey::fromPem(kTestKeyPem).value();
    kb::trust::RootSpec spec;
    spec.expires = kNow + 3650 * 86400;
    spec.dev = true;
    spec.root_keys = {key.publicKey()};
    spec.snapshot_keys = {key.publicKey()};
    spec.card_keys = {key.publicKey()};
    return kb::trust::TrustRoot::parse(kb::trust::makeRoot(spec, {key}), kNow).value();
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  kb::cache::ReadOptions options;
  options.limits.max_bundle_bytes = 1 << 20;
  options.limits.max_decompressed_bytes = 1 << 22;  // format 2: bounded zstd output
  auto source = kb::cache::memorySource(bytes);
  std::size_t entries = 0;
  auto m = kb::cache::readBundle(*source, testRoot(), kNow, options,
                                 [&](const kb::cache::Entry& e) -> kb::Result<void> {
                                   // Whatever the verifier passes on must be what a lookup can
                                   // decode.
                                   if (!e.deleted && !kb::cache::validCardNo(e.card_no))
                                     __builtin_trap();
                                   ++entries;
                                   return {};
                                 });
  if (m && m->entry_count != entries) __builtin_trap();
  // The record decoder on its own, over the same bytes.
  (void)kb::cache::decodeRecord(bytes, kb::roster::Profile::Staff);
  return 0;
}
