#include "cache/publish.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <queue>
#include <set>
#include <thread>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "roster/csv_reader.h"
#include "roster/errors.h"
#include "trust/errors.h"

namespace kb::cache {
namespace {

struct Item {
  std::uint32_t bucket = 0;
  std::uint32_t hash = 0;  ///< bucketOf(card_no, 0): all 32 bits, any geometry masks it
  std::string card_no;
  std::string json;
};

bool before(const Item& a, std::uint32_t bucket, std::string_view card_no) {
  return a.bucket < bucket || (a.bucket == bucket && a.card_no < card_no);
}
bool itemLess(const Item& a, const Item& b) {
  return before(a, b.bucket, b.card_no);
}

// 0 - 1 masks nothing: the full first four bytes of SHA-256(card_no).
std::uint32_t fullHash(std::string_view card_no) {
  return bucketOf(card_no, 0);
}

std::uint64_t fileBytes(std::string_view manifest, const BodyInfo& body) {
  return kBundleMagic.size() + 4 + manifest.size() + body.stored_bytes;
}

// A body file next to the bundle, removed when it goes out of scope.
struct TempBody {
  std::filesystem::path path;
  TempBody() = default;
  TempBody(const TempBody&) = delete;
  TempBody& operator=(const TempBody&) = delete;
  ~TempBody() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Keeps the base's bucket geometry when it still suits the new record count,
// so that a delta is possible.
std::uint32_t chooseBucketCount(std::uint64_t records, std::optional<std::uint32_t> base) {
  if (base && (*base == 1 || *base <= 2 * records) && records / *base <= 64) return *base;
  return bucketCountFor(records);
}

// The encoded records, handed out in body order once the geometry is known.
class ItemStream {
 public:
  virtual ~ItemStream() = default;
  virtual std::uint64_t size() const = 0;
  /// Puts the items in (bucket, card_no) order for `bucket_count`.
  virtual Result<void> arrange(std::uint32_t bucket_count) = 0;
  /// Starts handing out from the first item again.
  virtual Result<void> rewind() = 0;
  /// The next item (valid until the next call), nullptr at the end.
  virtual Result<const Item*> next() = 0;
};

class VectorStream final : public ItemStream {
 public:
  explicit VectorStream(std::vector<Item> items) : items_(std::move(items)) {}
  std::uint64_t size() const override { return items_.size(); }
  Result<void> arrange(std::uint32_t count) override {
    for (auto& i : items_) i.bucket = i.hash & (count - 1);
    std::sort(items_.begin(), items_.end(), itemLess);
    return {};
  }
  Result<void> rewind() override {
    at_ = 0;
    return {};
  }
  Result<const Item*> next() override { return at_ < items_.size() ? &items_[at_++] : nullptr; }

 private:
  std::vector<Item> items_;
  std::size_t at_ = 0;
};

// Runs job(0) ... job(count - 1) on up to `threads` threads, each index once,
// lowest first. After a failed job no new one starts; the error returned is
// that of the lowest failed index, as a loop would have returned.
Result<void> forEachIndex(std::size_t count, std::size_t threads,
                          const std::function<Result<void>(std::size_t)>& job) {
  std::vector<std::optional<Error>> errors(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t i; !failed && (i = next++) < count;)
      if (auto r = job(i); !r) {
        errors[i] = r.error();
        failed = true;
      }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(threads, count); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) return std::unexpected(*e);
  return {};
}

// ---- spill files: u32 hash, u32 card length, u32 json length, bytes ----

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

Result<File> openFile(const std::filesystem::path& path, const char* mode) {
  File f(std::fopen(path.c_str(), mode));
  if (!f) return fail(Errc::Io, path.string() + ": cannot open");
  std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 16);
  return f;
}

void putU32(std::string& out, std::uint32_t v) {
  appendU32(out, v);
}

Result<void> writeAll(std::FILE* f, std::string_view bytes, const std::filesystem::path& path) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
    return fail(Errc::Io, path.string() + ": write failed (disk full?)");
  return {};
}

Result<void> writeItem(std::FILE* f, const Item& i, const std::filesystem::path& path) {
  std::string head;
  putU32(head, i.hash);
  putU32(head, static_cast<std::uint32_t>(i.card_no.size()));
  putU32(head, static_cast<std::uint32_t>(i.json.size()));
  if (auto w = writeAll(f, head, path); !w) return w;
  if (auto w = writeAll(f, i.card_no, path); !w) return w;
  return writeAll(f, i.json, path);
}

std::uint32_t getU32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

// False at a clean end of file.
Result<bool> readItem(std::FILE* f, Item& i, const std::filesystem::path& path) {
  unsigned char head[12];
  std::size_t got = std::fread(head, 1, sizeof head, f);
  if (got == 0 && std::feof(f)) return false;
  if (got != sizeof head) return fail(Errc::Io, path.string() + ": truncated work file");
  i.hash = getU32(head);
  i.card_no.resize(getU32(head + 4));
  i.json.resize(getU32(head + 8));
  if (std::fread(i.card_no.data(), 1, i.card_no.size(), f) != i.card_no.size() ||
      std::fread(i.json.data(), 1, i.json.size(), f) != i.json.size())
    return fail(Errc::Io, path.string() + ": truncated work file");
  return true;
}

// Partition files of encoded records; sorted one at a time, then merged.
class RunStream final : public ItemStream {
 public:
  RunStream(std::vector<std::filesystem::path> runs, std::uint64_t n, std::size_t threads)
      : runs_(std::move(runs)), n_(n), threads_(threads) {}
  std::uint64_t size() const override { return n_; }

  Result<void> arrange(std::uint32_t count) override {
    if (count == arranged_) return {};
    // Each run is sorted alone, so the runs are shared among the threads.
    auto sorted = forEachIndex(runs_.size(), threads_, [&](std::size_t r) -> Result<void> {
      const auto& path = runs_[r];
      std::vector<Item> items;
      {
        auto f = openFile(path, "rb");
        if (!f) return std::unexpected(f.error());
        for (;;) {
          Item i;
          auto more = readItem(f->get(), i, path);
          if (!more) return std::unexpected(more.error());
          if (!*more) break;
          i.bucket = i.hash & (count - 1);
          items.push_back(std::move(i));
        }
      }
      std::sort(items.begin(), items.end(), itemLess);
      std::filesystem::path tmp = path.string() + ".sorted";
      {
        auto f = openFile(tmp, "wb");
        if (!f) return std::unexpected(f.error());
        for (const auto& i : items)
          if (auto w = writeItem(f->get(), i, tmp); !w) return w;
        if (std::fflush(f->get()) != 0) return fail(Errc::Io, tmp.string() + ": write failed");
      }
      std::error_code ec;
      std::filesystem::rename(tmp, path, ec);
      if (ec) return fail(Errc::Io, path.string() + ": " + ec.message());
      return {};
    });
    if (!sorted) return sorted;
    arranged_ = count;
    return {};
  }

  Result<void> rewind() override {
    readers_.clear();
    readers_.resize(runs_.size());
    heap_ = decltype(heap_)(Greater{&readers_});
    last_ = kNone;
    for (std::size_t r = 0; r < runs_.size(); ++r) {
      auto f = openFile(runs_[r], "rb");
      if (!f) return std::unexpected(f.error());
      readers_[r].file = std::move(*f);
      if (auto a = advance(r); !a) return a;
    }
    return {};
  }

  Result<const Item*> next() override {
    if (last_ != kNone)
      if (auto a = advance(last_); !a) return std::unexpected(a.error());
    if (heap_.empty()) {
      last_ = kNone;
      return nullptr;
    }
    last_ = heap_.top();
    heap_.pop();
    return &readers_[last_].item;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Reader {
    File file;
    Item item;
  };
  Result<void> advance(std::size_t r) {
    auto more = readItem(readers_[r].file.get(), readers_[r].item, runs_[r]);
    if (!more) return std::unexpected(more.error());
    if (*more) {
      readers_[r].item.bucket = readers_[r].item.hash & (arranged_ - 1);
      heap_.push(r);
    }
    return {};
  }
  struct Greater {
    const std::vector<Reader>* readers;
    bool operator()(std::size_t a, std::size_t b) const {
      return itemLess((*readers)[b].item, (*readers)[a].item);
    }
  };

  std::vector<std::filesystem::path> runs_;
  std::uint64_t n_;
  std::size_t threads_;
  std::uint32_t arranged_ = 0;
  std::vector<Reader> readers_;
  std::priority_queue<std::size_t, std::vector<std::size_t>, Greater> heap_{Greater{&readers_}};
  std::size_t last_ = kNone;
};

Result<void> checkSigning(const trust::TrustRoot& root, const std::vector<crypto::SigningKey>& keys,
                          const PublishOptions& o) {
  if (keys.empty()) return fail(Errc::Usage, "no signing key given");
  std::set<std::string> ids;
  for (const auto& k : keys) {
    std::string id = k.publicKey().keyId();
    if (!root.key(trust::Role::Snapshot, id))
      return fail(TrustErrc::UnknownKey,
                  "key " + id + " is not listed for role snapshot in the trust root");
    ids.insert(id);
  }
  if (static_cast<int>(ids.size()) < root.role(trust::Role::Snapshot).threshold)
    return fail(TrustErrc::ThresholdNotMet,
                std::to_string(ids.size()) + " snapshot key(s) given, the trust root requires " +
                    std::to_string(root.role(trust::Role::Snapshot).threshold));
  if (o.serial < 1 || o.serial > kMaxSerial)
    return fail(Errc::Usage, "serial must be between 1 and " + std::to_string(kMaxSerial));
  if (o.expires_at <= o.signed_at)
    return fail(Errc::Usage, "expiry must be after the signing time");
  return {};
}

// Encodes a record and checks it as a kiosk would: a staff-only field in a
// kiosk bundle is a privacy leak, caught here rather than on site.
Result<Item> encodeItem(roster::CardRecord& r, roster::Profile profile) {
  std::string json = encodeRecord(r);
  if (auto d = decodeRecord(json, profile); !d)
    return fail(Errc::Malformed, "card " + r.card_no + ": " + d.error().message);
  Item i;
  i.hash = fullHash(r.card_no);
  i.card_no = std::move(r.card_no);
  i.json = std::move(json);
  return i;
}

// Everything after encoding: geometry, the merge against --base, both bodies
// streamed, signatures, the files.
Result<PublishResult> publishItems(ItemStream& items, const trust::TrustRoot& root,
                                   const std::vector<crypto::SigningKey>& keys,
                                   const PublishOptions& o) {
  const std::uint64_t n = items.size();
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  const std::string stem = std::to_string(o.serial);
  TempBody snapshot_body, delta_body;
  std::unique_ptr<BodyWriter> snapshot_w, delta_w;
  std::unique_ptr<BucketDigester> digester;
  std::uint32_t bucket_count = bucketCountFor(n);
  bool have_prev = false;
  std::uint32_t prev_bucket = 0;
  std::string prev_card;

  auto start_snapshot = [&]() -> Result<void> {
    snapshot_body.path = o.out_dir / (".snapshot-" + stem + ".body.tmp");
    auto w = BodyWriter::create(snapshot_body.path, Compression::Zstd);
    if (!w) return std::unexpected(w.error());
    snapshot_w = std::move(*w);
    digester = std::make_unique<BucketDigester>(bucket_count);
    have_prev = false;
    return items.rewind();
  };
  // The next item in body order, also written to the snapshot and its digest.
  auto pull = [&]() -> Result<const Item*> {
    auto it = items.next();
    if (!it || !*it) return it;
    const Item& i = **it;
    if (have_prev && prev_bucket == i.bucket && prev_card == i.card_no)
      return fail(Errc::Malformed, "card " + i.card_no + " appears twice");
    have_prev = true;
    prev_bucket = i.bucket;
    prev_card = i.card_no;
    digester->add(i.bucket, i.json);
    if (auto a = snapshot_w->add(i.json); !a) return std::unexpected(a.error());
    return it;
  };
  auto drain = [&]() -> Result<void> {
    for (;;) {
      auto it = pull();
      if (!it) return std::unexpected(it.error());
      if (!*it) return {};
    }
  };

  std::optional<Manifest> base;
  if (o.base) {
    auto src = openFileSource(*o.base);
    if (!src) return std::unexpected(src.error());
    ReadOptions ro;
    ro.limits = o.limits;
    ro.check_expiry = false;  // an expired base is still a fine base
    bool same_geometry = false;
    ro.on_manifest = [&](const Manifest& m) -> Result<void> {
      if (m.type != BundleType::Snapshot)
        return fail(CacheErrc::WrongBase, "--base must be a snapshot bundle");
      if (m.profile != o.profile)
        return fail(CacheErrc::WrongBase,
                    "--base is a " + std::string(profileName(m.profile)) + " snapshot");
      if (m.serial >= o.serial)
        return fail(TrustErrc::Rollback, "serial " + std::to_string(o.serial) +
                                             " is not newer than the base's " +
                                             std::to_string(m.serial));
      bucket_count = chooseBucketCount(n, m.bucket_count);
      if (auto a = items.arrange(bucket_count); !a) return a;
      same_geometry = bucket_count == m.bucket_count;
      if (!same_geometry) return {};
      delta_body.path = o.out_dir / (".delta-" + stem + ".body.tmp");
      auto w = BodyWriter::create(delta_body.path, Compression::Zstd);
      if (!w) return std::unexpected(w.error());
      delta_w = std::move(*w);
      return start_snapshot();
    };
    // Merge join: base entries and new items share one order.
    const Item* cur = nullptr;
    bool started = false;
    auto advance = [&]() -> Result<void> {
      auto it = pull();
      if (!it) return std::unexpected(it.error());
      cur = *it;
      return {};
    };
    auto sink = [&](const Entry& e) -> Result<void> {
      if (!same_geometry) return {};
      if (!started) {
        started = true;
        if (auto a = advance(); !a) return a;
      }
      while (cur && before(*cur, e.bucket, e.card_no)) {
        if (auto a = delta_w->add(cur->json); !a) return a;
        if (auto a = advance(); !a) return a;
      }
      if (cur && cur->bucket == e.bucket && cur->card_no == e.card_no) {
        if (cur->json != e.json)
          if (auto a = delta_w->add(cur->json); !a) return a;
        return advance();
      }
      return delta_w->add(encodeDeletion(e.card_no));
    };
    auto m = readBundle(**src, root, o.signed_at, ro, sink);
    if (!m) return fail(m.error().code, o.base->string() + ": " + m.error().message);
    if (same_geometry) {
      if (!started)
        if (auto a = advance(); !a) return std::unexpected(a.error());
      while (cur) {
        if (auto a = delta_w->add(cur->json); !a) return std::unexpected(a.error());
        if (auto a = advance(); !a) return std::unexpected(a.error());
      }
      base = std::move(*m);
    } else {
      if (auto a = start_snapshot(); !a) return std::unexpected(a.error());
      if (auto a = drain(); !a) return std::unexpected(a.error());
    }
  } else {
    if (auto a = items.arrange(bucket_count); !a) return std::unexpected(a.error());
    if (auto a = start_snapshot(); !a) return std::unexpected(a.error());
    if (auto a = drain(); !a) return std::unexpected(a.error());
  }

  BundleSpec spec;
  spec.type = BundleType::Snapshot;
  spec.profile = o.profile;
  spec.serial = o.serial;
  spec.signed_at = o.signed_at;
  spec.expires_at = o.expires_at;
  spec.record_count = n;
  spec.bucket_count = bucket_count;
  spec.content_digest = stateDigest(digester->finish());

  PublishResult result;
  result.records = n;
  auto snapshot_info = snapshot_w->finish();
  if (!snapshot_info) return std::unexpected(snapshot_info.error());
  std::string snapshot_manifest = signManifest(spec, *snapshot_info, keys);
  // The same checks a kiosk will make, before anything is written.
  if (auto m = parseManifest(snapshot_manifest, root); !m) return std::unexpected(m.error());

  std::string delta_manifest;
  BodyInfo delta_info;
  if (base) {
    BundleSpec ds = spec;
    ds.type = BundleType::Delta;
    ds.base_serial = base->serial;
    ds.base_content_digest = base->content_digest;
    auto info = delta_w->finish();
    if (!info) return std::unexpected(info.error());
    delta_info = std::move(*info);
    delta_manifest = signManifest(ds, delta_info, keys);
  } else if (o.base) {
    result.note =
        "no delta written: the record count changed too much to keep the base's bucket count";
  }

  result.snapshot = o.out_dir / ("snapshot-" + std::to_string(o.serial) + ".kbs");
  if (auto w = writeBundleFile(result.snapshot, snapshot_manifest, snapshot_body.path); !w)
    return std::unexpected(w.error());
  result.snapshot_bytes = fileBytes(snapshot_manifest, *snapshot_info);
  if (base) {
    result.delta = o.out_dir / ("delta-" + std::to_string(base->serial) + "-" +
                                std::to_string(o.serial) + ".kbs");
    if (auto w = writeBundleFile(*result.delta, delta_manifest, delta_body.path); !w)
      return std::unexpected(w.error());
    result.delta_entries = delta_info.entry_count;
    result.delta_bytes = fileBytes(delta_manifest, delta_info);
  }
  return result;
}

// The work directory of the streaming publisher, removed with everything in it.
// An output directory made for it is removed too when it is left empty (a
// failed publish writes nothing).
struct WorkDir {
  std::filesystem::path path;
  std::filesystem::path created_out;
  ~WorkDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
    if (!created_out.empty()) std::filesystem::remove(created_out, ec);  // only if empty
  }
};

constexpr std::size_t kMaxPartitions = 512;
constexpr std::size_t kMaxRecordBytes = 64u << 20;
constexpr std::size_t kReadBlock = 4u << 20;

// Each thread holds one partition in memory, so at most 4 (peak RSS).
std::size_t publishThreads(const PublishOptions& o) {
  if (o.threads) return o.threads;
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
}

// Field `index` of one CSV record, or nullopt when a quote (or the record's
// end) comes before it ends: then the CSV reader decides.
std::optional<std::string_view> unquotedField(std::string_view rec, std::size_t index) {
  std::size_t begin = 0;
  for (std::size_t f = 0;; ++f) {
    std::size_t end = rec.find_first_of(",\"\r\n", begin);
    if (end == std::string_view::npos || rec[end] == '"') return std::nullopt;
    if (f == index) return rec.substr(begin, end - begin);
    if (rec[end] != ',') return std::nullopt;
    begin = end + 1;
  }
}

// One CSV record (with its line break) as split out of the roster.
struct RawPartition {
  std::filesystem::path path;
  File file;
};

}  // namespace

Result<PublishResult> publish(std::vector<roster::CardRecord> records, const trust::TrustRoot& root,
                              const std::vector<crypto::SigningKey>& keys,
                              const PublishOptions& o) {
  if (auto c = checkSigning(root, keys, o); !c) return std::unexpected(c.error());
  std::vector<Item> items;
  items.reserve(records.size());
  for (auto& r : records) {
    auto i = encodeItem(r, o.profile);
    if (!i) return std::unexpected(i.error());
    items.push_back(std::move(*i));
    r = {};
  }
  records.clear();
  records.shrink_to_fit();
  VectorStream stream(std::move(items));
  return publishItems(stream, root, keys, o);
}

Result<PublishResult> publishRoster(const std::filesystem::path& roster_csv,
                                    const roster::RosterOptions& ropt, const trust::TrustRoot& root,
                                    const std::vector<crypto::SigningKey>& keys,
                                    const PublishOptions& o,
                                    std::vector<roster::RosterIssue>& issues,
                                    std::vector<std::string>& warnings) {
  if (auto c = checkSigning(root, keys, o); !c) return std::unexpected(c.error());
  const std::string file_name = roster_csv.string();
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(roster_csv, ec);
  if (ec) return fail(Errc::Io, file_name + ": " + ec.message());
  WorkDir work;
  if (!std::filesystem::exists(o.out_dir, ec)) work.created_out = o.out_dir;
  std::filesystem::create_directories(o.out_dir, ec);
  work.path = o.out_dir /
              (".publish-" + std::to_string(o.serial) + "-" + std::to_string(::getpid()) + ".work");
  std::filesystem::remove_all(work.path, ec);
  if (!std::filesystem::create_directory(work.path, ec) || ec)
    return fail(Errc::Io, work.path.string() + ": cannot create the work directory");
  std::filesystem::permissions(work.path, std::filesystem::perms::owner_all, ec);

  // Pass 1: split the CSV into partitions by a hash of card_no, each record
  // kept whole (quoted line breaks included) with the line it starts on.
  const std::uint64_t want = std::max<std::uint64_t>(o.partition_bytes, 1);
  std::size_t parts = 1;
  while (parts < kMaxPartitions && parts * want < size) parts <<= 1;
  std::vector<RawPartition> raw(parts);
  for (std::size_t p = 0; p < parts; ++p) {
    raw[p].path = work.path / ("rows-" + std::to_string(p));
    auto f = openFile(raw[p].path, "wb");
    if (!f) return std::unexpected(f.error());
    raw[p].file = std::move(*f);
  }
  auto in = openFile(roster_csv, "rb");
  if (!in) return std::unexpected(in.error());
  std::string header;
  long header_line = 0;
  std::size_t card_col = static_cast<std::size_t>(-1);
  bool have_header = false;
  long line = 1;
  std::string buf;
  std::size_t start = 0, scan = 0;
  bool in_quote = false, eof = false;
  auto record = [&](std::string_view rec) -> Result<void> {
    const long rec_line = line;
    line += static_cast<long>(std::count(rec.begin(), rec.end(), '\n'));
    if (rec == "\n" || rec == "\r\n") return {};  // the reader skips empty lines too
    if (!have_header) {
      have_header = true;
      header = rec;
      header_line = rec_line;
      roster::CsvReader r(header);
      if (auto h = r.next(); h && *h)
        for (std::size_t i = 0; i < (**h).fields.size(); ++i)
          if ((**h).fields[i] == "card_no" && card_col == static_cast<std::size_t>(-1))
            card_col = i;
      return {};
    }
    std::size_t p = 0;  // a row whose card_no cannot be read: the parser says why
    if (card_col != static_cast<std::size_t>(-1)) {
      // Any hash will do (rows of one card only need to meet): std::hash, and
      // the field cut out directly unless a quote comes first.
      std::optional<std::string_view> card = unquotedField(rec, card_col);
      if (!card) {
        roster::CsvReader r(rec);
        if (auto row = r.next(); row && *row && (**row).fields.size() > card_col)
          card = (**row).fields[card_col];
      }
      if (card) p = std::hash<std::string_view>{}(*card) & (parts - 1);
    }
    std::string head;
    putU32(head, static_cast<std::uint32_t>(rec_line >> 32));
    putU32(head, static_cast<std::uint32_t>(rec_line & 0xffffffff));
    putU32(head, static_cast<std::uint32_t>(rec.size()));
    if (auto w = writeAll(raw[p].file.get(), head, raw[p].path); !w) return w;
    return writeAll(raw[p].file.get(), rec, raw[p].path);
  };
  while (!eof) {
    std::size_t old = buf.size();
    buf.resize(old + kReadBlock);
    std::size_t got = std::fread(buf.data() + old, 1, kReadBlock, in->get());
    buf.resize(old + got);
    if (got == 0) {
      if (std::ferror(in->get())) return fail(Errc::Io, file_name + ": read failed");
      eof = true;
    }
    for (; scan < buf.size(); ++scan) {
      char c = buf[scan];
      if (c == '"') {
        in_quote = !in_quote;
      } else if (c == '\n' && !in_quote) {
        if (auto r = record(std::string_view(buf).substr(start, scan + 1 - start)); !r)
          return std::unexpected(r.error());
        start = scan + 1;
      }
    }
    if (eof && start < buf.size()) {
      buf += '\n';  // the last record without a line break
      if (auto r = record(std::string_view(buf).substr(start)); !r)
        return std::unexpected(r.error());
      start = buf.size();
      scan = start;
    }
    if (buf.size() - start > kMaxRecordBytes) {
      issues.push_back({file_name, line, "-",
                        "record longer than 64 MiB (a quoted field that is never closed?)"});
      return fail(RosterErrc::BadRoster, issues.back().format());
    }
    buf.erase(0, start);
    scan -= start;
    start = 0;
  }
  in->reset();
  for (auto& r : raw) {
    if (std::fflush(r.file.get()) != 0) return fail(Errc::Io, r.path.string() + ": write failed");
    r.file.reset();
  }
  if (!have_header) {
    auto parsed = roster::parseRoster("", file_name, ropt);
    if (!parsed) issues = parsed.error();
    return fail(RosterErrc::BadRoster, issues.empty() ? "empty roster" : issues[0].format());
  }

  // Pass 2: each partition through the roster parser (every row of a card is
  // in it), encoded records to a run file. Partitions are independent, so they
  // are shared among the threads; their results are taken in partition order,
  // as one thread would have produced them.
  struct Parsed {
    std::vector<roster::RosterIssue> issues;
    std::vector<std::string> warnings;
    std::optional<std::filesystem::path> run;
    std::uint64_t records = 0;
  };
  std::vector<Parsed> parsed_parts(parts);
  std::atomic<bool> any_issue{false};
  const long header_lines = static_cast<long>(std::count(header.begin(), header.end(), '\n'));
  auto parse_partition = [&](std::size_t p) -> Result<void> {
    Parsed& out = parsed_parts[p];
    std::string csv = header;
    std::vector<long> map(1, 0);
    for (long k = 0; k < header_lines; ++k) map.push_back(header_line + k);
    {
      auto f = openFile(raw[p].path, "rb");
      if (!f) return std::unexpected(f.error());
      for (;;) {
        unsigned char head[12];
        std::size_t got = std::fread(head, 1, sizeof head, f->get());
        if (got == 0) break;
        if (got != sizeof head) return fail(Errc::Io, raw[p].path.string() + ": truncated");
        long at =
            static_cast<long>(static_cast<std::uint64_t>(getU32(head)) << 32 | getU32(head + 4));
        std::size_t len = getU32(head + 8);
        std::size_t off = csv.size();
        csv.resize(off + len);
        if (std::fread(csv.data() + off, 1, len, f->get()) != len)
          return fail(Errc::Io, raw[p].path.string() + ": truncated");
        const auto lines =
            std::count(csv.begin() + static_cast<std::ptrdiff_t>(off), csv.end(), '\n');
        for (long k = 0; k < static_cast<long>(lines); ++k) map.push_back(at + k);
      }
    }
    std::error_code rm;
    std::filesystem::remove(raw[p].path, rm);
    map.push_back(map.back() + 1);  // one past the end (an unterminated quote at the end)
    roster::RosterOptions po = ropt;
    po.line_map = &map;
    auto parsed = roster::parseRoster(csv, file_name, po);
    csv.clear();
    csv.shrink_to_fit();
    if (!parsed) {
      out.issues = std::move(parsed.error());
      any_issue = true;
      return {};
    }
    out.warnings = std::move(parsed->warnings);
    if (any_issue) return {};  // still checking the rest, nothing more to encode
    std::filesystem::path run = work.path / ("run-" + std::to_string(p));
    auto f = openFile(run, "wb");
    if (!f) return std::unexpected(f.error());
    for (auto& card : parsed->cards) {
      auto i = encodeItem(card, o.profile);
      if (!i) return std::unexpected(i.error());
      if (auto w = writeItem(f->get(), *i, run); !w) return std::unexpected(w.error());
      ++out.records;
    }
    if (std::fflush(f->get()) != 0) return fail(Errc::Io, run.string() + ": write failed");
    out.run = std::move(run);
    return {};
  };
  const std::size_t threads = publishThreads(o);
  if (auto r = forEachIndex(parts, threads, parse_partition); !r) return std::unexpected(r.error());
  std::vector<std::filesystem::path> runs;
  std::uint64_t n = 0;
  std::set<std::string> seen_warnings;
  const std::size_t max_issues = std::max<std::size_t>(ropt.max_issues, 1);
  for (auto& part : parsed_parts) {
    for (auto& i : part.issues) issues.push_back(std::move(i));
    for (auto& w : part.warnings)
      if (seen_warnings.insert(w).second) warnings.push_back(std::move(w));
    if (part.run) runs.push_back(std::move(*part.run));
    n += part.records;
  }
  if (!issues.empty()) {
    // Earliest first, as the whole-file parser reports them; a header issue is
    // found by every partition.
    std::stable_sort(issues.begin(), issues.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
    issues.erase(std::unique(issues.begin(), issues.end(),
                             [](const auto& a, const auto& b) {
                               return a.line == b.line && a.column == b.column &&
                                      a.reason == b.reason;
                             }),
                 issues.end());
    if (issues.size() > max_issues) issues.resize(max_issues);
    return fail(RosterErrc::BadRoster, issues.size() == 1
                                           ? issues[0].format()
                                           : std::to_string(issues.size()) + " bad row(s)");
  }
  RunStream stream(std::move(runs), n, threads);
  return publishItems(stream, root, keys, o);
}

}  // namespace kb::cache
