#pragma once
/// The signed bundle file (.kbs): a snapshot of all records or a delta against
/// a named base. Layout and rules: docs/formats.md, "Bundles".

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "roster/record.h"
#include "trust/trust.h"

namespace kb::cache {

inline constexpr std::string_view kBundleMagic = "KBS1\n";

/// The highest serial a bundle may carry (2^31 - 1: one serial a minute for
/// 4,000 years). Above it a manifest is MALFORMED, so a mistaken or hostile
/// huge serial cannot block every later import (docs/operations.md: re-key).
inline constexpr std::int64_t kMaxSerial = 2147483647;

struct Limits {
  std::uint64_t max_bundle_bytes = 2ull << 30;  ///< whole file, as stored
  std::uint32_t max_manifest_bytes = 1u << 20;
  std::uint32_t max_entry_bytes = 64u << 10;
  /// A compressed body's declared size once decompressed (a larger one is
  /// TOO_LARGE before any byte is decompressed; output beyond the declared
  /// size is TOO_LARGE as soon as it appears).
  std::uint64_t max_decompressed_bytes = 8ull << 30;
};

/// How the body is stored: format 1 bundles are plain, format 2 bundles hold
/// one zstd stream of the same bytes (docs/formats.md, "Compression").
enum class Compression { None, Zstd };

enum class BundleType { Snapshot, Delta };
std::string_view bundleTypeName(BundleType type);

/// The signed manifest's fields (all checked), plus the envelope text itself.
struct Manifest {
  BundleType type = BundleType::Snapshot;
  roster::Profile profile = roster::Profile::Kiosk;
  std::int64_t serial = 0;
  UnixSeconds signed_at = 0;
  UnixSeconds expires_at = 0;
  std::uint64_t record_count = 0;  ///< records in the state after applying
  std::uint64_t entry_count = 0;   ///< entries in this file's body
  std::uint64_t body_bytes = 0;    ///< the body as stored in the file
  std::uint32_t bucket_count = 1;
  std::string body_sha256;  ///< 32 raw bytes, over the body as stored in the file
  Compression compression = Compression::None;
  std::uint64_t decompressed_bytes = 0;  ///< zstd only: the body's entries' bytes
  std::string content_digest;            ///< 32 raw bytes: state digest after applying
  std::int64_t base_serial = 0;          ///< delta only
  std::string base_content_digest;       ///< delta only, 32 raw bytes
  std::string text;                      ///< the signed envelope as stored
  std::vector<std::string> keyids;       ///< who signed
};

/// Checks a manifest envelope: JSON shape and role-snapshot signatures against
/// `root` (not expiry). Used at import and again at every cache open.
Result<Manifest> parseManifest(std::string_view text, const trust::TrustRoot& root);

/// One body entry, valid only during the callback.
struct Entry {
  std::uint32_t bucket = 0;
  std::string_view card_no;
  bool deleted = false;   ///< delta only: remove card_no
  std::string_view json;  ///< the entry's bytes (canonical JSON)
};
using EntrySink = std::function<Result<void>(const Entry&)>;

struct ReadOptions {
  Limits limits;
  bool check_expiry = true;          ///< off only to read an old bundle as a publish base
  bool check_content_digest = true;  ///< snapshots: recompute the state digest from entries
  /// Called once the manifest is verified, before the body is read: lets an
  /// importer refuse early (rollback, wrong base) without reading the body.
  std::function<Result<void>(const Manifest&)> on_manifest;
};

/// Where bundle bytes come from: a file (streamed) or memory (tests, fuzzing).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  /// Reads exactly `n` bytes into `out` (replacing it); TRUNCATED at end of input.
  virtual Result<void> read(std::string& out, std::size_t n) = 0;
};
Result<std::unique_ptr<ByteSource>> openFileSource(const std::filesystem::path& path);
std::unique_ptr<ByteSource> memorySource(std::string_view bytes);

/// Reads and checks a whole bundle. Order of checks (first failure wins):
/// size limit (TOO_LARGE), magic (MALFORMED), manifest length (TOO_LARGE,
/// TRUNCATED), manifest (MALFORMED, signature errors), expiry (EXPIRED), file
/// length against body_bytes (TRUNCATED, TOO_LARGE), then the body:
/// body_sha256 (DIGEST_MISMATCH) before any entry error (MALFORMED, TOO_LARGE),
/// entry count, and for snapshots the content digest (DIGEST_MISMATCH).
/// `sink` sees each entry as it is read, before the body digest is known: a
/// caller that stores entries must discard them if this returns an error.
Result<Manifest> readBundle(ByteSource& source, const trust::TrustRoot& root, UnixSeconds now,
                            const ReadOptions& options, const EntrySink& sink = {});

/// What a bundle is about to say, before signing.
struct BundleSpec {
  BundleType type = BundleType::Snapshot;
  roster::Profile profile = roster::Profile::Kiosk;
  std::int64_t serial = 0;
  UnixSeconds signed_at = 0;
  UnixSeconds expires_at = 0;
  std::uint64_t record_count = 0;
  std::uint32_t bucket_count = 1;
  std::string content_digest;
  std::int64_t base_serial = 0;
  std::string base_content_digest;
};

/// The signed manifest envelope for `spec` over `entries` (already in
/// (bucket, card_no) order), stored plain (format 1).
std::string signManifest(const BundleSpec& spec, const std::vector<std::string>& entries,
                         const std::vector<crypto::SigningKey>& keys);
/// The complete plain bundle bytes (tests and small bundles).
std::string bundleBytes(std::string_view manifest, const std::vector<std::string>& entries);
/// Writes a plain bundle crash-safely (temporary sibling, fsync, rename, fsync dir).
Result<void> writeBundleFile(const std::filesystem::path& path, std::string_view manifest,
                             const std::vector<std::string>& entries);

/// What a manifest says about a body as stored.
struct BodyInfo {
  Compression compression = Compression::None;
  std::uint64_t entry_count = 0;
  std::uint64_t plain_bytes = 0;   ///< the length-prefixed entries
  std::uint64_t stored_bytes = 0;  ///< in the file (= plain_bytes when not compressed)
  std::string stored_sha256;       ///< 32 raw bytes over the stored bytes
};
/// The signed manifest for a body described by `body` (format 2 when compressed).
std::string signManifest(const BundleSpec& spec, const BodyInfo& body,
                         const std::vector<crypto::SigningKey>& keys);

/// zstd level of published bundles: level 3 already gives ~40 bytes/record on
/// the synthetic roster (docs/PERFORMANCE.md) at ~400 MB/s.
inline constexpr int kZstdLevel = 3;

/// Streams entries into a body file, compressing on the fly, so a publisher
/// never holds the body in memory.
class BodyWriter {
 public:
  static Result<std::unique_ptr<BodyWriter>> create(const std::filesystem::path& path,
                                                    Compression compression,
                                                    int level = kZstdLevel);
  virtual ~BodyWriter() = default;
  virtual Result<void> add(std::string_view entry) = 0;
  /// Flushes and closes the file; the writer takes no more entries.
  virtual Result<BodyInfo> finish() = 0;
};

/// The body for `entries` in memory (tests, fuzzing, small bundles).
std::string encodeBody(const std::vector<std::string>& entries, Compression compression,
                       BodyInfo& info, int level = kZstdLevel);
/// The complete bundle bytes around an already stored body.
std::string bundleBytes(std::string_view manifest, std::string_view stored_body);
/// Writes the bundle header, `manifest` and then the stored body copied from
/// `body_file`, crash-safely as writeBundleFile does.
Result<void> writeBundleFile(const std::filesystem::path& path, std::string_view manifest,
                             const std::filesystem::path& body_file);

}  // namespace kb::cache
