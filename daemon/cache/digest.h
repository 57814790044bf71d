#pragma once
/// Bucket geometry and digests of a membership state (docs/formats.md, "Bundles").
/// A lookup re-hashes one bucket and compares it with a digest that chains up
/// to the signed content digest, so an edited row is caught at lookup time.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"

namespace kb::cache {

constexpr std::uint32_t kMaxBucketCount = 1u << 22;

/// Smallest power of two >= max(1, records / 16).
std::uint32_t bucketCountFor(std::uint64_t records);
bool validBucketCount(std::uint32_t count);
/// First four bytes of SHA-256(card_no), big-endian, modulo `bucket_count`.
std::uint32_t bucketOf(std::string_view card_no, std::uint32_t bucket_count);

/// Appends `value` as four big-endian bytes.
void appendU32(std::string& out, std::uint32_t value);

/// Hashes records that arrive in (bucket, card_no) order into one digest per
/// bucket, with O(1) state: each bucket's records are contiguous.
class BucketDigester {
 public:
  explicit BucketDigester(std::uint32_t bucket_count);
  /// `bucket` must not decrease between calls.
  void add(std::uint32_t bucket, std::string_view record_json);
  /// One 32-byte digest per bucket; empty buckets hash the empty string.
  std::vector<std::string> finish();

 private:
  void closeUpTo(std::uint32_t bucket);
  std::uint32_t count_;
  std::uint32_t current_ = 0;
  crypto::Sha256 sha_;
  std::vector<std::string> digests_;
};

/// SHA-256(u32 bucket_count || digest[0] || ... ): the signed content digest.
std::string stateDigest(const std::vector<std::string>& bucket_digests);

}  // namespace kb::cache
