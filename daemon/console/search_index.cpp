#include "console/search_index.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "cache/sqlite.h"
#include "cache/store.h"
#include "common/encoding.h"
#include "console/name_key.h"
#include "roster/nik_key.h"

namespace kb::console {
namespace {

namespace sql = cache::sql;

constexpr int kFormat = 8;  // bump when the index's layout or the key rules change

constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  format         INTEGER NOT NULL,
  content_digest TEXT    NOT NULL,
  records        INTEGER NOT NULL
);
CREATE TABLE people (
  id       INTEGER PRIMARY KEY,
  card_no  TEXT NOT NULL,
  nik_hash TEXT NOT NULL,
  terms    INTEGER NOT NULL  -- how many name terms: shorter names rank first
);
CREATE VIRTUAL TABLE names USING fts5(
  terms, kel, rt, content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
);
-- Every distinct kelurahan (its keys, space-separated) and its number.
CREATE TABLE kelurahans (
  id   INTEGER PRIMARY KEY,
  keys TEXT NOT NULL UNIQUE
);
-- Name terms tagged with the record's kelurahan ("k000012" + term): a name in
-- one kelurahan is one short posting list, not a long name list ANDed with
-- the kelurahan's words (tens of thousands of rows each at 10^6).
CREATE VIRTUAL TABLE kelnames USING fts5(
  kt, rt, content = '', tokenize = 'unicode61 remove_diacritics 0'
);
)sql";

// Fixed width, so a tag and the term after it cannot run into each other.
constexpr std::int64_t kMaxKelurahans = 999999;
std::string kelurahanTag(std::int64_t id) {
  std::string digits = std::to_string(id);
  return "k" + std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}

bool safeTerm(std::string_view t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

std::string joinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ' ';
    out += k;
  }
  return out;
}

Result<void> build(const std::filesystem::path& tmp, const std::filesystem::path& cache_file,
                   const trust::TrustRoot& root, std::string_view content_digest) {
  auto file = cache::openVerified(cache_file, root);
  if (!file) return std::unexpected(file.error());
  if (file->manifest.profile != roster::Profile::Staff)
    return fail(CacheErrc::Unverifiable, cache_file.string() +
                                             ": holds kiosk data; the console needs "
                                             "the staff profile");
  if (hexEncode(file->manifest.content_digest) != content_digest)
    return fail(CacheErrc::Unverifiable,
                cache_file.string() + ": changed while the index was built");
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  auto db =
      sql::Db::open(tmp.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return std::unexpected(db.error());
  for (const char* s : {"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", kSchema})
    if (auto r = db->exec(s); !r) return std::unexpected(r.error());
  auto tx = db->begin();
  if (!tx) return std::unexpected(tx.error());
  auto all = file->db.prepare("SELECT bucket, card_no, body FROM records ORDER BY bucket, card_no");
  auto person =
      db->prepare("INSERT INTO people (id, card_no, nik_hash, terms) VALUES (?1, ?2, ?3, ?4)");
  auto name = db->prepare("INSERT INTO names (rowid, terms, kel, rt) VALUES (?1, ?2, ?3, ?4)");
  auto kelname = db->prepare("INSERT INTO kelnames (rowid, kt, rt) VALUES (?1, ?2, ?3)");
  if (!all) return std::unexpected(all.error());
  if (!person) return std::unexpected(person.error());
  if (!name) return std::unexpected(name.error());
  if (!kelname) return std::unexpected(kelname.error());
  std::unordered_map<std::string, std::int64_t> kelurahan_ids;
  const std::uint32_t buckets = file->manifest.bucket_count;
  cache::BucketDigester digester(buckets);
  std::int64_t id = 0;
  for (;;) {
    auto row = all->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    const std::int64_t bucket = all->integer(0);
    const std::string_view card_no = all->text(1), body = all->text(2);
    if (bucket < 0 || bucket >= buckets || cache::peekCardNo(body) != card_no ||
        cache::bucketOf(card_no, buckets) != static_cast<std::uint32_t>(bucket))
      return fail(CacheErrc::Unverifiable, "integrity: a row is not where its signed body says");
    digester.add(static_cast<std::uint32_t>(bucket), body);
    auto rec = cache::decodeRecord(body, roster::Profile::Staff);
    if (!rec) return fail(CacheErrc::Unverifiable, "integrity: a stored record does not decode");
    ++id;
    const auto terms = indexTerms(rec->holder);
    person->bind(1, id)
        .bind(2, rec->card_no)
        // the 128-bit form, also for a record from a bundle made before the cut
        .bind(3, rec->nik_hash.substr(0, roster::kKeyedHashHexDigits))
        .bind(4, static_cast<std::int64_t>(terms.size()));
    if (auto r = person->run(); !r) return std::unexpected(r.error());
    std::vector<std::string> kel;
    for (const auto& w : foldWords(rec->kelurahan)) kel.push_back(variantKey(w));
    const std::string kel_keys = joinKeys(kel);
    name->bind(1, id).bind(2, joinKeys(terms)).bind(3, kel_keys).bind(4, rec->rt);
    if (auto r = name->run(); !r) return std::unexpected(r.error());
    auto [it, added] =
        kelurahan_ids.try_emplace(kel_keys, static_cast<std::int64_t>(kelurahan_ids.size()) + 1);
    if (it->second > kMaxKelurahans)
      return fail(Errc::TooLarge, "more than 999,999 kelurahan in one staff cache");
    const std::string tag = kelurahanTag(it->second);
    std::string tagged;
    for (const auto& t : terms) {
      if (!tagged.empty()) tagged += ' ';
      tagged += tag + t;
    }
    kelname->bind(1, id).bind(2, tagged).bind(3, rec->rt);
    if (auto r = kelname->run(); !r) return std::unexpected(r.error());
  }
  {
    auto kel_row = db->prepare("INSERT INTO kelurahans (id, keys) VALUES (?1, ?2)");
    if (!kel_row) return std::unexpected(kel_row.error());
    for (const auto& [keys, kid] : kelurahan_ids) {
      kel_row->bind(1, kid).bind(2, keys);
      if (auto r = kel_row->run(); !r) return std::unexpected(r.error());
    }
  }
  if (digester.finish() != file->bucket_digests)
    return fail(CacheErrc::Unverifiable, "integrity: stored records differ from the signed data");
  // Built after the rows: one sort instead of a million B-tree inserts.
  // Covering: a NIK search reads the card numbers from the index alone.
  if (auto r = db->exec("CREATE INDEX people_nik ON people (nik_hash, card_no)"); !r)
    return std::unexpected(r.error());
  auto meta =
      db->prepare("INSERT INTO meta (id, format, content_digest, records) VALUES (1, ?1, ?2, ?3)");
  if (!meta) return std::unexpected(meta.error());
  meta->bind(1, kFormat).bind(2, content_digest).bind(3, id);
  if (auto r = meta->run(); !r) return std::unexpected(r.error());
  all.value() = sql::Stmt();
  person.value() = sql::Stmt();
  name.value() = sql::Stmt();
  kelname.value() = sql::Stmt();
  meta.value() = sql::Stmt();
  return tx->commit();
}

}  // namespace

// One read-only connection with its statements; the index keeps a few, so
// that lookups on different threads do not queue behind one connection.
struct Conn {
  std::mutex mu;
  std::optional<sql::Db> db;
  std::optional<sql::Stmt> by_nik, by_name, by_kelname;
  ~Conn() {
    by_nik.reset();
    by_name.reset();
    by_kelname.reset();
    db.reset();
  }
};

constexpr std::size_t kConnections = 8;
constexpr std::size_t kRankable = 256;  // match sets up to this size are ranked
// A typed kelurahan that matches more kelurahan than this (a word or two
// letters common to many) is looked up through the kelurahan words instead.
constexpr std::size_t kMaxKelurahanTags = 8;

struct Kelurahan {
  std::string tag;
  std::vector<std::string> keys;
};

struct SearchIndex::Impl {
  IndexStats stats;
  std::vector<Kelurahan> kelurahans;
  std::vector<std::unique_ptr<Conn>> conns;
  std::atomic<std::size_t> next{0};
  // A free connection if there is one, else the next in turn (waiting for it).
  std::pair<Conn*, std::unique_lock<std::mutex>> acquire() {
    const std::size_t start = next++;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn* c = conns[(start + i) % conns.size()].get();
      std::unique_lock lock(c->mu, std::try_to_lock);
      if (lock.owns_lock()) return {c, std::move(lock)};
    }
    Conn* c = conns[start % conns.size()].get();
    return {c, std::unique_lock(c->mu)};
  }
};

SearchIndex::SearchIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SearchIndex::SearchIndex(SearchIndex&&) noexcept = default;
SearchIndex& SearchIndex::operator=(SearchIndex&&) noexcept = default;
SearchIndex::~SearchIndex() = default;

const IndexStats& SearchIndex::stats() const {
  return impl_->stats;
}

Result<SearchIndex> SearchIndex::openOrBuild(const std::filesystem::path& index_path,
                                             const std::filesystem::path& cache_file,
                                             const trust::TrustRoot& root,
                                             std::string_view content_digest) {
  auto try_open = [&]() -> std::unique_ptr<Impl> {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(index_path, ec)) return nullptr;
    auto impl = std::make_unique<Impl>();
    for (std::size_t i = 0; i < kConnections; ++i) {
      auto db = sql::Db::openReplacedByRename(index_path.string());
      if (!db) return nullptr;
      if (i == 0) {
        auto meta = db->prepare("SELECT format, content_digest, records FROM meta WHERE id = 1");
        if (!meta || !meta->step().value_or(false)) return nullptr;
        if (meta->integer(0) != kFormat || meta->text(1) != content_digest) return nullptr;
        impl->stats.records = static_cast<std::uint64_t>(meta->integer(2));
        impl->stats.content_digest = std::string(content_digest);
        auto kels = db->prepare("SELECT id, keys FROM kelurahans");
        if (!kels) return nullptr;
        for (;;) {
          auto row = kels->step();
          if (!row) return nullptr;
          if (!*row) break;
          Kelurahan k{kelurahanTag(kels->integer(0)), {}};
          std::string_view keys = kels->text(1);
          while (!keys.empty()) {
            const auto sp = keys.find(' ');
            k.keys.emplace_back(keys.substr(0, sp));
            keys = sp == std::string_view::npos ? std::string_view() : keys.substr(sp + 1);
          }
          impl->kelurahans.push_back(std::move(k));
        }
      }
      // Read through a shared mapping rather than a private page cache per
      // connection: the posting lists of common names are read again and
      // again, by every connection. (Best effort: without it, pread.)
      (void)db->exec("PRAGMA mmap_size = 4294967296");
      auto nik = db->prepare("SELECT card_no FROM people WHERE nik_hash = ?1 LIMIT ?2");
      // Unordered: FTS5's bm25 rank computes each phrase's document frequency
      // by reading its whole posting list (kelurahan words, common names: tens
      // of thousands of rows at 10^6), which cost more than the match itself.
      // A small match set is ordered here instead, by name length (see byName).
      auto nm = db->prepare(
          "SELECT p.card_no, p.terms FROM names JOIN people p ON p.id = names.rowid "
          "WHERE names MATCH ?1 LIMIT ?2");
      auto kn = db->prepare(
          "SELECT p.card_no, p.terms FROM kelnames JOIN people p ON p.id = kelnames.rowid "
          "WHERE kelnames MATCH ?1 LIMIT ?2");
      if (!nik || !nm || !kn) return nullptr;
      auto c = std::make_unique<Conn>();
      c->db.emplace(std::move(*db));
      c->by_nik.emplace(std::move(*nik));
      c->by_name.emplace(std::move(*nm));
      c->by_kelname.emplace(std::move(*kn));
      impl->conns.push_back(std::move(c));
    }
    return impl;
  };
  if (auto impl = try_open()) return SearchIndex(std::move(impl));
  const auto tmp = cache::withSuffix(index_path, ".building");
  if (auto r = build(tmp, cache_file, root, content_digest); !r) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return std::unexpected(r.error());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, index_path, ec);
  if (ec) return fail(Errc::Io, index_path.string() + ": cannot install index: " + ec.message());
  if (auto impl = try_open()) return SearchIndex(std::move(impl));
  return fail(Errc::Io, index_path.string() + ": the index just built does not open");
}

namespace {

// "a" AND "b" AND ... over the safe keys, each with `tag` in front; in the
// prefix pass the last one is a prefix term. Only the last word is a prefix
// (the caller is still spelling it; the words before are whole): a prefix
// term merges the posting lists of every indexed word it starts, which at
// 10^6 records cost far more than the lookup itself.
std::string conjunction(const std::vector<std::string>& keys, bool prefix,
                        std::string_view tag = {}) {
  std::string out;
  std::size_t last = keys.size();
  for (std::size_t i = keys.size(); i-- > 0;)
    if (safeTerm(keys[i])) {
      last = i;
      break;
    }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!safeTerm(keys[i])) continue;
    if (!out.empty()) out += " AND ";
    out += "\"";
    out += tag;
    out += keys[i] + "\"" + (prefix && i == last ? "*" : "");
  }
  return out;
}

std::string rtFilter(std::string_view rt) {
  return safeTerm(rt) ? " AND rt : \"" + std::string(rt) + "\"" : std::string();
}

// The expression over `kelnames` for the kelurahan whose tags are given: any
// name alternative, tagged with any of them.
std::string kelurahanExpression(const std::vector<std::vector<std::string>>& name_alts,
                                const std::vector<std::string>& tags, std::string_view rt,
                                bool prefix) {
  std::string any;
  for (const auto& tag : tags)
    for (const auto& alt : name_alts) {
      auto c = conjunction(alt, prefix, tag);
      if (c.empty()) continue;
      if (!any.empty()) any += " OR ";
      any += "(" + c + ")";
    }
  if (any.empty()) return {};
  return "kt : (" + any + ")" + rtFilter(rt);
}

}  // namespace

std::string ftsExpression(const std::vector<std::vector<std::string>>& name_alts,
                          const std::vector<std::string>& kelurahan_keys, std::string_view rt,
                          bool prefix) {
  std::string names;
  for (const auto& alt : name_alts) {
    auto c = conjunction(alt, prefix);
    if (c.empty()) continue;
    if (!names.empty()) names += " OR ";
    names += "(" + c + ")";
  }
  if (names.empty()) return {};
  std::string expr = "terms : (" + names + ")";
  if (auto k = conjunction(kelurahan_keys, prefix); !k.empty()) expr += " AND kel : (" + k + ")";
  return expr + rtFilter(rt);
}

Result<std::vector<std::string>> SearchIndex::byNikHash(std::string_view nik_hash,
                                                        std::size_t limit) {
  auto [conn, lock] = impl_->acquire();
  auto& s = *conn->by_nik;
  s.reset();
  s.bind(1, nik_hash).bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  for (;;) {
    auto row = s.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.emplace_back(s.text(0));
  }
  s.reset();
  return out;
}

Result<std::vector<std::string>> SearchIndex::byName(
    const std::vector<std::vector<std::string>>& name_alts,
    const std::vector<std::string>& kelurahan_keys, std::string_view rt, std::size_t limit) {
  // With a kelurahan: the kelurahan it can mean (matched the way the answer is
  // re-checked: every typed key a prefix of one of the kelurahan's keys), and
  // the name looked up among their tagged terms. A typed kelurahan that fits
  // too many falls back to the kelurahan words.
  std::optional<std::vector<std::string>> tags;
  if (std::any_of(kelurahan_keys.begin(), kelurahan_keys.end(), safeTerm)) {
    tags.emplace();
    const std::vector<std::vector<std::string>> typed{kelurahan_keys};
    for (const auto& k : impl_->kelurahans)
      if (matches(typed, k.keys)) {
        if (tags->size() == kMaxKelurahanTags) {
          tags.reset();
          break;
        }
        tags->push_back(k.tag);
      }
    if (tags && tags->empty()) return std::vector<std::string>{};  // no such kelurahan here
  }
  auto [conn, lock] = impl_->acquire();
  auto& s = tags ? *conn->by_kelname : *conn->by_name;
  std::vector<std::string> out;
  std::vector<std::pair<std::int64_t, std::string>> rows;  // (name terms, card)
  for (bool prefix : {false, true}) {
    if (out.size() >= limit) break;
    const auto expr = tags ? kelurahanExpression(name_alts, *tags, rt, prefix)
                           : ftsExpression(name_alts, kelurahan_keys, rt, prefix);
    if (expr.empty()) break;
    // Unordered, up to kRankable rows: fewer means the whole match set is
    // here, and it is ordered with the shortest names first (every row holds
    // all the query's keys, so the fewer other words, the fuller the match;
    // what bm25 ranked by within one match set). Ties keep rowid order.
    rows.clear();
    s.reset();
    s.bind(1, expr).bind(2, static_cast<std::int64_t>(kRankable));
    for (;;) {
      auto row = s.step();
      if (!row) {
        s.reset();
        return std::unexpected(row.error());
      }
      if (!*row) break;
      rows.emplace_back(s.integer(1), std::string(s.text(0)));
    }
    s.reset();
    if (rows.size() < kRankable)
      std::stable_sort(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [terms, card] : rows)
      if (out.size() < limit && std::find(out.begin(), out.end(), card) == out.end())
        out.push_back(std::move(card));
  }
  return out;
}

}  // namespace kb::console
