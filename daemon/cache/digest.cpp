#include "cache/digest.h"

namespace kb::cache {

std::uint32_t bucketCountFor(std::uint64_t records) {
  std::uint64_t want = records / 16 > 1 ? records / 16 : 1;
  std::uint32_t n = 1;
  while (n < want && n < kMaxBucketCount) n <<= 1;
  return n;
}

bool validBucketCount(std::uint32_t count) {
  return count >= 1 && count <= kMaxBucketCount && (count & (count - 1)) == 0;
}

std::uint32_t bucketOf(std::string_view card_no, std::uint32_t bucket_count) {
  // One hasher per thread: a context per call cost a third of the hashing.
  thread_local crypto::Sha256 sha;
  sha.update(card_no);
  std::string h = sha.finish();
  auto b = [&](int i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(h[static_cast<std::size_t>(i)]));
  };
  std::uint32_t v = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  return v & (bucket_count - 1);
}

void appendU32(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16 & 0xff));
  out.push_back(static_cast<char>(value >> 8 & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

BucketDigester::BucketDigester(std::uint32_t bucket_count) : count_(bucket_count) {
  digests_.reserve(bucket_count);
}

void BucketDigester::closeUpTo(std::uint32_t bucket) {
  // Finishing resets the hasher, so each further empty bucket hashes "".
  while (digests_.size() < bucket) digests_.push_back(sha_.finish());
}

void BucketDigester::add(std::uint32_t bucket, std::string_view record_json) {
  if (bucket != current_) {
    closeUpTo(bucket);
    current_ = bucket;
  }
  std::string len;
  appendU32(len, static_cast<std::uint32_t>(record_json.size()));
  sha_.update(len);
  sha_.update(record_json);
}

std::vector<std::string> BucketDigester::finish() {
  closeUpTo(count_);
  current_ = 0;
  return std::move(digests_);
}

std::string stateDigest(const std::vector<std::string>& bucket_digests) {
  crypto::Sha256 sha;
  std::string head;
  appendU32(head, static_cast<std::uint32_t>(bucket_digests.size()));
  sha.update(head);
  for (const auto& d : bucket_digests) sha.update(d);
  return sha.finish();
}

}  // namespace kb::cache
