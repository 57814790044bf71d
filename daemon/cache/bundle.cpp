#include "cache/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "cache/digest.h"
#include "cache/record_codec.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"

namespace kb::cache {
namespace {

using nlohmann::json;

constexpr std::string_view kSnapshotType = "kartu-bahagia/snapshot";
constexpr std::string_view kDeltaType = "kartu-bahagia/delta";
constexpr int kFormat = 1;
constexpr std::int64_t kMaxInteger = std::int64_t{1} << 53;  // exact in every JSON reader
constexpr std::size_t kHeaderBytes = 9;                      // magic + u32 manifest length

std::uint32_t readU32(std::string_view b) {
  auto at = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[i]));
  };
  return (at(0) << 24) | (at(1) << 16) | (at(2) << 8) | at(3);
}

std::string ioMessage(const std::filesystem::path& p, const char* what) {
  return p.string() + ": " + what + ": " + std::strerror(errno);
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::uint64_t size, std::filesystem::path path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::uint64_t size() const override { return size_; }

  Result<void> read(std::string& out, std::size_t n) override {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      if (pos_ == len_) {
        ssize_t r = ::read(fd_, buf_.data(), buf_.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail(Errc::Io, ioMessage(path_, "cannot read"));
        if (r == 0) return fail(Errc::Truncated, path_.string() + ": ends early");
        pos_ = 0;
        len_ = static_cast<std::size_t>(r);
      }
      std::size_t take = std::min(n - got, len_ - pos_);
      std::memcpy(out.data() + got, buf_.data() + pos_, take);
      got += take;
      pos_ += take;
    }
    return {};
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::filesystem::path path_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  std::size_t pos_ = 0, len_ = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  Result<void> read(std::string& out, std::size_t n) override {
    if (bytes_.size() - pos_ < n) return fail(Errc::Truncated, "bundle ends early");
    out.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return {};
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

Error malformed(const std::string& what) {
  return Error{Errc::Malformed, "manifest: " + what};
}

Result<std::int64_t> integerField(const json& body, const char* key, std::int64_t min) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer())
    return std::unexpected(malformed(std::string("'") + key + "' must be an integer"));
  bool in_range = it->is_number_unsigned()
                      ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxInteger)
                      : it->get<std::int64_t>() <= kMaxInteger;
  if (!in_range || it->get<std::int64_t>() < min)
    return std::unexpected(malformed(std::string("'") + key + "' is out of range"));
  return it->get<std::int64_t>();
}

Result<std::string> stringField(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string())
    return std::unexpected(malformed(std::string("'") + key + "' must be a string"));
  return it->get<std::string>();
}

Result<UnixSeconds> timeField(const json& body, const char* key) {
  auto s = stringField(body, key);
  if (!s) return std::unexpected(s.error());
  auto t = parseUtc(*s);
  if (!t)
    return std::unexpected(
        malformed(std::string("'") + key + "' must be like 2026-11-21T04:52:00Z"));
  return *t;
}

Result<std::string> digestField(const json& body, const char* key) {
  auto s = stringField(body, key);
  if (!s) return std::unexpected(s.error());
  auto raw = s->size() == 64 ? hexDecode(*s) : std::nullopt;
  if (!raw || hexEncode(*raw) != *s)
    return std::unexpected(
        malformed(std::string("'") + key + "' must be 64 lower-case hex digits"));
  return *raw;
}

#define KB_FIELD(target, expr)                       \
  do {                                               \
    auto kb_r = (expr);                              \
    if (!kb_r) return std::unexpected(kb_r.error()); \
    (target) = std::move(*kb_r);                     \
  } while (false)

Result<Manifest> manifestFromBody(const json& body) {
  Manifest m;
  std::string type, profile;
  KB_FIELD(type, stringField(body, "type"));
  if (type == kSnapshotType) {
    m.type = BundleType::Snapshot;
  } else if (type == kDeltaType) {
    m.type = BundleType::Delta;
  } else {
    return std::unexpected(
        malformed("'type' must be kartu-bahagia/snapshot or kartu-bahagia/delta"));
  }
  std::int64_t format = 0, bucket_count = 0, record_count = 0, entry_count = 0, body_bytes = 0;
  KB_FIELD(format, integerField(body, "format", 0));
  if (format != kFormat)
    return std::unexpected(malformed("unsupported format " + std::to_string(format)));
  KB_FIELD(profile, stringField(body, "profile"));
  auto p = parseProfile(profile);
  if (!p) return std::unexpected(malformed(p.error().message));
  m.profile = *p;
  KB_FIELD(m.serial, integerField(body, "serial", 1));
  if (m.serial > kMaxSerial)
    return std::unexpected(malformed("'serial' must be at most " + std::to_string(kMaxSerial)));
  KB_FIELD(m.signed_at, timeField(body, "signed_at"));
  KB_FIELD(m.expires_at, timeField(body, "expires_at"));
  if (m.expires_at <= m.signed_at)
    return std::unexpected(malformed("expires_at must be after signed_at"));
  KB_FIELD(record_count, integerField(body, "record_count", 0));
  KB_FIELD(entry_count, integerField(body, "entry_count", 0));
  KB_FIELD(body_bytes, integerField(body, "body_bytes", 0));
  KB_FIELD(bucket_count, integerField(body, "bucket_count", 1));
  m.record_count = static_cast<std::uint64_t>(record_count);
  m.entry_count = static_cast<std::uint64_t>(entry_count);
  m.body_bytes = static_cast<std::uint64_t>(body_bytes);
  if (bucket_count > kMaxBucketCount || !validBucketCount(static_cast<std::uint32_t>(bucket_count)))
    return std::unexpected(malformed("'bucket_count' must be a power of two up to 2^22"));
  m.bucket_count = static_cast<std::uint32_t>(bucket_count);
  // A bucket count far above the record count would only cost the reader memory.
  if (m.bucket_count > 1 && m.bucket_count > 2 * m.record_count)
    return std::unexpected(malformed("'bucket_count' is too large for 'record_count'"));
  KB_FIELD(m.body_sha256, digestField(body, "body_sha256"));
  KB_FIELD(m.content_digest, digestField(body, "content_digest"));
  std::size_t known = 12;
  if (m.type == BundleType::Snapshot) {
    if (m.entry_count != m.record_count)
      return std::unexpected(malformed("a snapshot's entry_count must equal its record_count"));
  } else {
    KB_FIELD(m.base_serial, integerField(body, "base_serial", 1));
    KB_FIELD(m.base_content_digest, digestField(body, "base_content_digest"));
    if (m.base_serial >= m.serial)
      return std::unexpected(malformed("'base_serial' must be below 'serial'"));
    known += 2;
  }
  if (body.size() != known) return std::unexpected(malformed("unknown field"));
  return m;
}

json manifestBody(const BundleSpec& s, std::uint64_t entry_count, std::uint64_t body_bytes,
                  const std::string& body_sha256) {
  json b = {{"type", s.type == BundleType::Snapshot ? kSnapshotType : kDeltaType},
            {"format", kFormat},
            {"profile", profileName(s.profile)},
            {"serial", s.serial},
            {"signed_at", formatUtc(s.signed_at)},
            {"expires_at", formatUtc(s.expires_at)},
            {"record_count", s.record_count},
            {"entry_count", entry_count},
            {"body_bytes", body_bytes},
            {"body_sha256", hexEncode(body_sha256)},
            {"bucket_count", s.bucket_count},
            {"content_digest", hexEncode(s.content_digest)}};
  if (s.type == BundleType::Delta) {
    b["base_serial"] = s.base_serial;
    b["base_content_digest"] = hexEncode(s.base_content_digest);
  }
  return b;
}

// Checks one body entry. Order within the body is (bucket, card_no) ascending,
// each card at most once.
Result<Entry> checkEntry(std::string_view bytes, const Manifest& m,
                         const std::string& previous_card, std::uint32_t previous_bucket,
                         bool first) {
  Entry e;
  e.json = bytes;
  if (m.type == BundleType::Delta && bytes.find("\"deleted\":true") != std::string_view::npos) {
    json j = json::parse(bytes, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 2 || !j.contains("card_no") ||
        !j["card_no"].is_string() || j["deleted"] != true)
      return fail(Errc::Malformed, "a deletion entry is {\"card_no\": …, \"deleted\": true}");
    if (encodeDeletion(j["card_no"].get_ref<const std::string&>()) != bytes)
      return fail(Errc::Malformed, "deletion entry is not in canonical JSON form");
    e.deleted = true;
    e.card_no = peekCardNo(bytes);
    if (!validCardNo(e.card_no)) return fail(Errc::Malformed, "card_no must match [0-9A-Z-]{6,24}");
  } else {
    auto r = decodeRecord(bytes, m.profile);
    if (!r) return std::unexpected(r.error());
    e.card_no = peekCardNo(bytes);
  }
  e.bucket = bucketOf(e.card_no, m.bucket_count);
  if (!first && (e.bucket < previous_bucket ||
                 (e.bucket == previous_bucket && std::string_view(previous_card) >= e.card_no)))
    return fail(Errc::Malformed, "entries must be in (bucket, card_no) order, each card once");
  return e;
}

}  // namespace

#undef KB_FIELD

std::string_view bundleTypeName(BundleType type) {
  return type == BundleType::Snapshot ? "snapshot" : "delta";
}

Result<std::unique_ptr<ByteSource>> openFileSource(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::Io, ioMessage(path, "cannot open"));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::Io, path.string() + ": not a regular file");
  }
  return std::make_unique<FileSource>(fd, static_cast<std::uint64_t>(st.st_size), path);
}

std::unique_ptr<ByteSource> memorySource(std::string_view bytes) {
  return std::make_unique<MemorySource>(bytes);
}

Result<Manifest> parseManifest(std::string_view text, const trust::TrustRoot& root) {
  auto doc = trust::parseSigned(text);
  if (!doc) return fail(doc.error().code, "manifest: " + doc.error().message);
  auto m = manifestFromBody(doc->body);
  if (!m) return m;
  if (auto v = root.verify(trust::Role::Snapshot, *doc); !v) return std::unexpected(v.error());
  m->text = std::string(text);
  for (const auto& s : doc->signatures) m->keyids.push_back(s.keyid);
  return m;
}

Result<Manifest> readBundle(ByteSource& source, const trust::TrustRoot& root, UnixSeconds now,
                            const ReadOptions& options, const EntrySink& sink) {
  const Limits& lim = options.limits;
  const std::uint64_t size = source.size();
  if (size > lim.max_bundle_bytes)
    return fail(Errc::TooLarge, "bundle is " + std::to_string(size) + " bytes, the limit is " +
                                    std::to_string(lim.max_bundle_bytes));
  std::string buf;
  if (size < kHeaderBytes) {
    // Too short to hold a header: still tell a wrong file from a cut one.
    if (auto r = source.read(buf, static_cast<std::size_t>(size)); !r)
      return std::unexpected(r.error());
    if (!kBundleMagic.starts_with(buf.substr(0, kBundleMagic.size())))
      return fail(Errc::Malformed, "not a Kartu Bahagia bundle (bad magic)");
    return fail(Errc::Truncated, "bundle ends inside its header");
  }
  if (auto r = source.read(buf, kHeaderBytes); !r) return std::unexpected(r.error());
  if (std::string_view(buf).substr(0, kBundleMagic.size()) != kBundleMagic)
    return fail(Errc::Malformed, "not a Kartu Bahagia bundle (bad magic)");
  const std::uint32_t manifest_len = readU32(std::string_view(buf).substr(kBundleMagic.size()));
  if (manifest_len > lim.max_manifest_bytes)
    return fail(Errc::TooLarge, "manifest of " + std::to_string(manifest_len) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(lim.max_manifest_bytes));
  if (size < kHeaderBytes + manifest_len)
    return fail(Errc::Truncated, "bundle ends inside its manifest");
  std::string manifest_text;
  if (auto r = source.read(manifest_text, manifest_len); !r) return std::unexpected(r.error());
  auto m = parseManifest(manifest_text, root);
  if (!m) return m;
  if (options.check_expiry && now > m->expires_at)
    return fail(Errc::Expired, std::string(bundleTypeName(m->type)) + " " +
                                   std::to_string(m->serial) + " expired at " +
                                   formatUtc(m->expires_at));
  const std::uint64_t body_start = kHeaderBytes + manifest_len;
  if (size - body_start < m->body_bytes)
    return fail(Errc::Truncated, "bundle body is " + std::to_string(size - body_start) +
                                     " bytes, manifest says " + std::to_string(m->body_bytes));
  if (size - body_start > m->body_bytes)
    return fail(Errc::TooLarge, "bundle is longer than its manifest declares");

  if (options.on_manifest) {
    if (auto r = options.on_manifest(*m); !r) return std::unexpected(r.error());
  }

  // One pass over the body. An entry error is remembered, not returned, until
  // the body digest is known: bytes that are not the signed body are a digest
  // mismatch, whatever they happen to contain.
  crypto::Sha256 body_sha;
  BucketDigester digester(m->bucket_count);
  const bool want_digest = options.check_content_digest && m->type == BundleType::Snapshot;
  std::optional<Error> entry_error;
  std::uint64_t remaining = m->body_bytes, entries = 0;
  std::string prev_card;
  std::uint32_t prev_bucket = 0;
  std::string len_bytes, entry;
  while (remaining > 0) {
    if (entry_error) {  // only hashing from here on
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, 1 << 20));
      if (auto r = source.read(entry, n); !r) return std::unexpected(r.error());
      body_sha.update(entry);
      remaining -= n;
      continue;
    }
    if (remaining < 4) {
      entry_error = Error{Errc::Malformed, "body ends inside an entry length"};
      continue;
    }
    if (auto r = source.read(len_bytes, 4); !r) return std::unexpected(r.error());
    body_sha.update(len_bytes);
    remaining -= 4;
    std::uint32_t len = readU32(len_bytes);
    if (len > lim.max_entry_bytes) {
      entry_error = Error{Errc::TooLarge, "entry " + std::to_string(entries) + " of " +
                                              std::to_string(len) + " bytes exceeds the limit of " +
                                              std::to_string(lim.max_entry_bytes)};
      continue;
    }
    if (len > remaining) {
      entry_error =
          Error{Errc::Malformed, "entry " + std::to_string(entries) + " runs past the body"};
      continue;
    }
    if (auto r = source.read(entry, len); !r) return std::unexpected(r.error());
    body_sha.update(entry);
    remaining -= len;
    if (entries >= m->entry_count) {
      entry_error = Error{Errc::Malformed, "more entries than entry_count"};
      continue;
    }
    auto e = checkEntry(entry, *m, prev_card, prev_bucket, entries == 0);
    if (!e) {
      entry_error =
          Error{e.error().code, "entry " + std::to_string(entries) + ": " + e.error().message};
      continue;
    }
    if (want_digest) digester.add(e->bucket, entry);
    if (sink) {
      if (auto r = sink(*e); !r) return std::unexpected(r.error());
    }
    prev_card.assign(e->card_no);
    prev_bucket = e->bucket;
    ++entries;
  }
  if (body_sha.finish() != m->body_sha256)
    return fail(Errc::DigestMismatch,
                "body does not match the manifest's body_sha256 (not the signed body)");
  if (entry_error) return std::unexpected(*entry_error);
  if (entries != m->entry_count)
    return fail(Errc::Malformed, "body holds " + std::to_string(entries) +
                                     " entries, manifest says " + std::to_string(m->entry_count));
  if (want_digest && stateDigest(digester.finish()) != m->content_digest)
    return fail(Errc::DigestMismatch, "records do not hash to the manifest's content_digest");
  return m;
}

std::string signManifest(const BundleSpec& spec, const std::vector<std::string>& entries,
                         const std::vector<crypto::SigningKey>& keys) {
  crypto::Sha256 sha;
  std::uint64_t bytes = 0;
  std::string len;
  for (const auto& e : entries) {
    len.clear();
    appendU32(len, static_cast<std::uint32_t>(e.size()));
    sha.update(len);
    sha.update(e);
    bytes += 4 + e.size();
  }
  return trust::signDocument(manifestBody(spec, entries.size(), bytes, sha.finish()), keys);
}

std::string bundleBytes(std::string_view manifest, const std::vector<std::string>& entries) {
  std::string out(kBundleMagic);
  appendU32(out, static_cast<std::uint32_t>(manifest.size()));
  out.append(manifest);
  for (const auto& e : entries) {
    appendU32(out, static_cast<std::uint32_t>(e.size()));
    out.append(e);
  }
  return out;
}

Result<void> writeBundleFile(const std::filesystem::path& path, std::string_view manifest,
                             const std::vector<std::string>& entries) {
  auto tmp = path;
  tmp += ".tmp";
  // A fresh file, never one planted under the temporary name (see writeFileAtomic).
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Errc::Io, ioMessage(tmp, "cannot create"));
  std::string buf(kBundleMagic);
  appendU32(buf, static_cast<std::uint32_t>(manifest.size()));
  buf.append(manifest);
  auto flush = [&]() -> bool {
    std::size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      off += static_cast<std::size_t>(n);
    }
    buf.clear();
    return true;
  };
  bool ok = true;
  for (const auto& e : entries) {
    appendU32(buf, static_cast<std::uint32_t>(e.size()));
    buf.append(e);
    if (buf.size() >= (1u << 20) && !(ok = flush())) break;
  }
  ok = ok && flush() && ::fsync(fd) == 0;
  std::string err = ok ? "" : ioMessage(tmp, "cannot write");
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(Errc::Io, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(Errc::Io, ioMessage(path, "cannot rename"));
  return syncDirectory(path.parent_path());
}

}  // namespace kb::cache
