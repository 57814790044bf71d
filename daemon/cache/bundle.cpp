#include "cache/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"

namespace kb::cache {
namespace {

using nlohmann::json;

constexpr std::string_view kSnapshotType = "kartu-bahagia/snapshot";
constexpr std::string_view kDeltaType = "kartu-bahagia/delta";
constexpr int kFormat = 1;      // plain body
constexpr int kFormatZstd = 2;  // the body is one zstd stream
constexpr std::string_view kZstd = "zstd";
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

// Reads a body's plain bytes (the length-prefixed entries), hashing the
// bytes as stored in the file as they pass.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// Exactly `n` plain bytes into `out`.
  virtual Result<void> read(std::string& out, std::size_t n) = 0;
  /// Once every declared plain byte was read: the stored body must end here.
  virtual Result<void> finish() = 0;
  /// Hashes what is left of the stored body without interpreting it.
  Result<void> drain() {
    while (stored_left_ > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(stored_left_, 1 << 20));
      if (auto r = source_.read(chunk_, n); !r) return r;
      sha_.update(chunk_);
      stored_left_ -= n;
    }
    return {};
  }
  std::string digest() { return sha_.finish(); }

 protected:
  BodyReader(ByteSource& source, std::uint64_t stored) : source_(source), stored_left_(stored) {}
  Result<void> readStored(std::string& out, std::size_t n) {
    if (auto r = source_.read(out, n); !r) return r;
    sha_.update(out);
    stored_left_ -= n;
    return {};
  }
  ByteSource& source_;
  std::uint64_t stored_left_;
  std::string chunk_;
  crypto::Sha256 sha_;
};

class PlainReader final : public BodyReader {
 public:
  PlainReader(ByteSource& source, std::uint64_t stored) : BodyReader(source, stored) {}
  Result<void> read(std::string& out, std::size_t n) override { return readStored(out, n); }
  Result<void> finish() override { return {}; }
};

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Decompresses as it reads, never holding more than one output block: the
// caller asks for exactly the declared plain bytes, and finish() refuses any
// further output (a stream that expands beyond its declared size) as TOO_LARGE.
class ZstdReader final : public BodyReader {
 public:
  ZstdReader(ByteSource& source, std::uint64_t stored)
      : BodyReader(source, stored), dctx_(ZSTD_createDCtx()) {
    // A frame may ask for a window of up to 2^27 bytes (128 MiB) and no more.
    ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, 27);
  }

  Result<void> read(std::string& out, std::size_t n) override {
    out.clear();
    while (out.size() < n) {
      if (pos_ == out_.size()) {
        if (auto r = refill(); !r) return r;
        continue;
      }
      std::size_t take = std::min(n - out.size(), out_.size() - pos_);
      out.append(out_, pos_, take);
      pos_ += take;
    }
    return {};
  }

  Result<void> finish() override {
    if (pos_ != out_.size()) return std::unexpected(tooLarge());
    for (;;) {
      if (in_.pos == in_.size && stored_left_ > 0)
        if (auto r = pull(); !r) return r;
      const bool no_input = in_.pos == in_.size;
      if (no_input && frame_done_) break;  // a finished frame and nothing after it
      auto r = step();
      if (!r) return std::unexpected(r.error());
      if (*r > 0) return std::unexpected(tooLarge());
      if (no_input) break;
    }
    if (!frame_done_) return fail(Errc::Malformed, "compressed body ends inside its zstd frame");
    return {};
  }

 private:
  static Error tooLarge() {
    return Error{Errc::TooLarge, "compressed body decompresses to more than its declared size"};
  }
  Result<void> pull() {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(stored_left_, 1 << 18));
    if (auto r = readStored(in_bytes_, n); !r) return r;
    in_ = {in_bytes_.data(), in_bytes_.size(), 0};
    return {};
  }
  // One decompression call into out_; returns the bytes produced.
  Result<std::size_t> step() {
    out_.resize(ZSTD_DStreamOutSize());
    pos_ = 0;
    ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
    std::size_t rc = ZSTD_decompressStream(dctx_.get(), &ob, &in_);
    if (ZSTD_isError(rc)) {
      out_.clear();
      return fail(Errc::Malformed, std::string("compressed body: ") + ZSTD_getErrorName(rc));
    }
    frame_done_ = rc == 0;
    out_.resize(ob.pos);
    return ob.pos;
  }
  Result<void> refill() {
    for (;;) {
      if (in_.pos == in_.size && stored_left_ > 0)
        if (auto r = pull(); !r) return r;
      const bool no_input = in_.pos == in_.size;
      if (no_input && frame_done_)
        return fail(Errc::Malformed, "compressed body decompresses to less than its declared size");
      auto r = step();
      if (!r) return std::unexpected(r.error());
      if (*r > 0) return {};
      if (no_input && !frame_done_)
        return fail(Errc::Malformed, "compressed body ends inside its zstd frame");
    }
  }

  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx_;
  std::string in_bytes_, out_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  std::size_t pos_ = 0;
  bool frame_done_ = false;
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
  if (format != kFormat && format != kFormatZstd)
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
  if (format == kFormatZstd) {
    std::string compression;
    std::int64_t decompressed = 0;
    KB_FIELD(compression, stringField(body, "compression"));
    if (compression != kZstd) return std::unexpected(malformed("'compression' must be zstd"));
    KB_FIELD(decompressed, integerField(body, "decompressed_bytes", 0));
    m.compression = Compression::Zstd;
    m.decompressed_bytes = static_cast<std::uint64_t>(decompressed);
    known += 2;
  }
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

json manifestBody(const BundleSpec& s, const BodyInfo& info) {
  const bool zstd = info.compression == Compression::Zstd;
  const std::uint64_t entry_count = info.entry_count, body_bytes = info.stored_bytes;
  const std::string& body_sha256 = info.stored_sha256;
  json b = {{"type", s.type == BundleType::Snapshot ? kSnapshotType : kDeltaType},
            {"format", zstd ? kFormatZstd : kFormat},
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
  if (zstd) {
    b["compression"] = kZstd;
    b["decompressed_bytes"] = info.plain_bytes;
  }
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
    return fail(CacheErrc::Expired, std::string(bundleTypeName(m->type)) + " " +
                                        std::to_string(m->serial) + " expired at " +
                                        formatUtc(m->expires_at));
  const std::uint64_t body_start = kHeaderBytes + manifest_len;
  if (size - body_start < m->body_bytes)
    return fail(Errc::Truncated, "bundle body is " + std::to_string(size - body_start) +
                                     " bytes, manifest says " + std::to_string(m->body_bytes));
  if (size - body_start > m->body_bytes)
    return fail(Errc::TooLarge, "bundle is longer than its manifest declares");

  if (m->compression == Compression::Zstd && m->decompressed_bytes > lim.max_decompressed_bytes)
    return fail(Errc::TooLarge, "body decompresses to " + std::to_string(m->decompressed_bytes) +
                                    " bytes, the limit is " +
                                    std::to_string(lim.max_decompressed_bytes));

  if (options.on_manifest) {
    if (auto r = options.on_manifest(*m); !r) return std::unexpected(r.error());
  }

  // One pass over the body. An entry error (or a compressed stream that does
  // not decode to exactly the declared bytes) is remembered, not returned,
  // until the digest of the stored body is known: bytes that are not the
  // signed body are a digest mismatch, whatever they happen to contain.
  std::unique_ptr<BodyReader> body;
  std::uint64_t remaining = m->body_bytes;
  if (m->compression == Compression::Zstd) {
    body = std::make_unique<ZstdReader>(source, m->body_bytes);
    remaining = m->decompressed_bytes;
  } else {
    body = std::make_unique<PlainReader>(source, m->body_bytes);
  }
  BucketDigester digester(m->bucket_count);
  const bool want_digest = options.check_content_digest && m->type == BundleType::Snapshot;
  std::optional<Error> entry_error;
  std::uint64_t entries = 0;
  std::string prev_card;
  std::uint32_t prev_bucket = 0;
  std::string len_bytes, entry;
  // I/O errors of the source end the read; a body that does not decode is an entry error.
  auto read_body = [&](std::string& out, std::size_t n) -> Result<bool> {
    if (auto r = body->read(out, n); !r) {
      if (r.error().code == Errc::Io || r.error().code == Errc::Truncated)
        return std::unexpected(r.error());
      entry_error = r.error();
      return false;
    }
    return true;
  };
  while (remaining > 0 && !entry_error) {
    if (remaining < 4) {
      entry_error = Error{Errc::Malformed, "body ends inside an entry length"};
      break;
    }
    auto got = read_body(len_bytes, 4);
    if (!got) return std::unexpected(got.error());
    if (!*got) break;
    remaining -= 4;
    std::uint32_t len = readU32(len_bytes);
    if (len > lim.max_entry_bytes) {
      entry_error = Error{Errc::TooLarge, "entry " + std::to_string(entries) + " of " +
                                              std::to_string(len) + " bytes exceeds the limit of " +
                                              std::to_string(lim.max_entry_bytes)};
      break;
    }
    if (len > remaining) {
      entry_error =
          Error{Errc::Malformed, "entry " + std::to_string(entries) + " runs past the body"};
      break;
    }
    got = read_body(entry, len);
    if (!got) return std::unexpected(got.error());
    if (!*got) break;
    remaining -= len;
    if (entries >= m->entry_count) {
      entry_error = Error{Errc::Malformed, "more entries than entry_count"};
      break;
    }
    auto e = checkEntry(entry, *m, prev_card, prev_bucket, entries == 0);
    if (!e) {
      entry_error =
          Error{e.error().code, "entry " + std::to_string(entries) + ": " + e.error().message};
      break;
    }
    if (want_digest) digester.add(e->bucket, entry);
    if (sink) {
      if (auto r = sink(*e); !r) return std::unexpected(r.error());
    }
    prev_card.assign(e->card_no);
    prev_bucket = e->bucket;
    ++entries;
  }
  if (!entry_error) {
    if (auto r = body->finish(); !r) {
      if (r.error().code == Errc::Io || r.error().code == Errc::Truncated)
        return std::unexpected(r.error());
      entry_error = r.error();
    }
  }
  if (auto r = body->drain(); !r) return std::unexpected(r.error());
  if (body->digest() != m->body_sha256)
    return fail(CacheErrc::DigestMismatch,
                "body does not match the manifest's body_sha256 (not the signed body)");
  if (entry_error) return std::unexpected(*entry_error);
  if (entries != m->entry_count)
    return fail(Errc::Malformed, "body holds " + std::to_string(entries) +
                                     " entries, manifest says " + std::to_string(m->entry_count));
  if (want_digest && stateDigest(digester.finish()) != m->content_digest)
    return fail(CacheErrc::DigestMismatch, "records do not hash to the manifest's content_digest");
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
  BodyInfo info;
  info.entry_count = entries.size();
  info.plain_bytes = info.stored_bytes = bytes;
  info.stored_sha256 = sha.finish();
  return signManifest(spec, info, keys);
}

std::string signManifest(const BundleSpec& spec, const BodyInfo& body,
                         const std::vector<crypto::SigningKey>& keys) {
  return trust::signDocument(manifestBody(spec, body), keys);
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
  return writeFileAtomicStreamed(path, [&](const FileSink& write) -> Result<void> {
    std::string buf(kBundleMagic);
    appendU32(buf, static_cast<std::uint32_t>(manifest.size()));
    buf.append(manifest);
    for (const auto& e : entries) {
      appendU32(buf, static_cast<std::uint32_t>(e.size()));
      buf.append(e);
      if (buf.size() >= (1u << 20)) {
        if (auto r = write(buf); !r) return r;
        buf.clear();
      }
    }
    return write(buf);
  });
}

namespace {

bool writeAll(int fd, std::string_view bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

class FileBodyWriter final : public BodyWriter {
 public:
  FileBodyWriter(int fd, std::filesystem::path path, Compression compression, int level)
      : fd_(fd), path_(std::move(path)) {
    info_.compression = compression;
    if (compression == Compression::Zstd) {
      cctx_.reset(ZSTD_createCCtx());
      ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level);
      ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 1);
      // Compression on a zstd worker thread while the caller prepares the next
      // entries (a publish is CPU-bound). The output depends only on the
      // parameters, not on timing; a libzstd without threads refuses this and
      // compresses on the caller's thread.
      ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_nbWorkers, 1);
    }
  }
  ~FileBodyWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileBodyWriter(const FileBodyWriter&) = delete;
  FileBodyWriter& operator=(const FileBodyWriter&) = delete;

  Result<void> add(std::string_view entry) override {
    appendU32(plain_, static_cast<std::uint32_t>(entry.size()));
    plain_.append(entry);
    ++info_.entry_count;
    if (plain_.size() >= (1u << 20)) return push(ZSTD_e_continue);
    return {};
  }

  Result<BodyInfo> finish() override {
    if (auto r = push(ZSTD_e_end); !r) return std::unexpected(r.error());
    if (auto r = flush(); !r) return std::unexpected(r.error());
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return fail(Errc::Io, ioMessage(path_, "cannot write"));
    info_.stored_sha256 = sha_.finish();
    return info_;
  }

 private:
  Result<void> push(ZSTD_EndDirective mode) {
    info_.plain_bytes += plain_.size();
    if (!cctx_) {
      stored_.append(plain_);
    } else {
      ZSTD_inBuffer in{plain_.data(), plain_.size(), 0};
      std::string block(ZSTD_CStreamOutSize(), '\0');
      for (;;) {
        ZSTD_outBuffer out{block.data(), block.size(), 0};
        std::size_t left = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
        if (ZSTD_isError(left))
          return fail(Errc::Io, std::string("zstd: ") + ZSTD_getErrorName(left));
        stored_.append(block.data(), out.pos);
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
      }
    }
    plain_.clear();
    if (stored_.size() >= (1u << 20)) return flush();
    return {};
  }
  Result<void> flush() {
    sha_.update(stored_);
    info_.stored_bytes += stored_.size();
    if (!writeAll(fd_, stored_)) return fail(Errc::Io, ioMessage(path_, "cannot write"));
    stored_.clear();
    return {};
  }

  int fd_;
  std::filesystem::path path_;
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx_;
  std::string plain_, stored_;
  crypto::Sha256 sha_;
  BodyInfo info_;
};

}  // namespace

Result<std::unique_ptr<BodyWriter>> BodyWriter::create(const std::filesystem::path& path,
                                                       Compression compression, int level) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::Io, ioMessage(path, "cannot create"));
  return std::make_unique<FileBodyWriter>(fd, path, compression, level);
}

std::string encodeBody(const std::vector<std::string>& entries, Compression compression,
                       BodyInfo& info, int level) {
  std::string plain;
  for (const auto& e : entries) {
    appendU32(plain, static_cast<std::uint32_t>(e.size()));
    plain.append(e);
  }
  info = {};
  info.compression = compression;
  info.entry_count = entries.size();
  info.plain_bytes = plain.size();
  std::string stored;
  if (compression == Compression::Zstd) {
    stored.resize(ZSTD_compressBound(plain.size()));
    std::size_t n = ZSTD_compress(stored.data(), stored.size(), plain.data(), plain.size(), level);
    stored.resize(ZSTD_isError(n) ? 0 : n);
  } else {
    stored = std::move(plain);
  }
  info.stored_bytes = stored.size();
  crypto::Sha256 sha;
  sha.update(stored);
  info.stored_sha256 = sha.finish();
  return stored;
}

std::string bundleBytes(std::string_view manifest, std::string_view stored_body) {
  std::string out(kBundleMagic);
  appendU32(out, static_cast<std::uint32_t>(manifest.size()));
  out.append(manifest);
  out.append(stored_body);
  return out;
}

Result<void> writeBundleFile(const std::filesystem::path& path, std::string_view manifest,
                             const std::filesystem::path& body_file) {
  int in = ::open(body_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return fail(Errc::Io, ioMessage(body_file, "cannot open"));
  struct CloseIn {
    int fd;
    ~CloseIn() { ::close(fd); }
  } close_in{in};
  return writeFileAtomicStreamed(path, [&](const FileSink& write) -> Result<void> {
    std::string buf(kBundleMagic);
    appendU32(buf, static_cast<std::uint32_t>(manifest.size()));
    buf.append(manifest);
    if (auto r = write(buf); !r) return r;
    buf.resize(1 << 20);
    for (;;) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(Errc::Io, ioMessage(body_file, "cannot read"));
      if (n == 0) return {};
      if (auto r = write(std::string_view(buf.data(), static_cast<std::size_t>(n))); !r) return r;
    }
  });
}

}  // namespace kb::cache
