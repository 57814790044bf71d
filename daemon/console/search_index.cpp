#include "console/search_index.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include "cache/digest.h"
#include "cache/record_codec.h"
#include "cache/sqlite.h"
#include "cache/store.h"
#include "common/encoding.h"
#include "console/name_key.h"

namespace kb::console {
namespace {

namespace sql = cache::sql;

constexpr int kFormat = 4;  // bump when the index's layout or the key rules change

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
)sql";

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
    return fail(Errc::Unverifiable, cache_file.string() +
                                        ": holds kiosk data; the console needs "
                                        "the staff profile");
  if (hexEncode(file->manifest.content_digest) != content_digest)
    return fail(Errc::Unverifiable, cache_file.string() + ": changed while the index was built");
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  auto db =
      sql::Db::open(tmp.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return std::unexpected(db.error());
  for (const char* s : {"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", kSchema, "BEGIN"})
    if (auto r = db->exec(s); !r) return std::unexpected(r.error());
  auto all = file->db.prepare("SELECT bucket, card_no, body FROM records ORDER BY bucket, card_no");
  auto person =
      db->prepare("INSERT INTO people (id, card_no, nik_hash, terms) VALUES (?1, ?2, ?3, ?4)");
  auto name = db->prepare("INSERT INTO names (rowid, terms, kel, rt) VALUES (?1, ?2, ?3, ?4)");
  if (!all) return std::unexpected(all.error());
  if (!person) return std::unexpected(person.error());
  if (!name) return std::unexpected(name.error());
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
      return fail(Errc::Unverifiable, "integrity: a row is not where its signed body says");
    digester.add(static_cast<std::uint32_t>(bucket), body);
    auto rec = cache::decodeRecord(body, roster::Profile::Staff);
    if (!rec) return fail(Errc::Unverifiable, "integrity: a stored record does not decode");
    ++id;
    const auto terms = indexTerms(rec->holder);
    person->bind(1, id)
        .bind(2, rec->card_no)
        .bind(3, rec->nik_hash)
        .bind(4, static_cast<std::int64_t>(terms.size()));
    if (auto r = person->run(); !r) return std::unexpected(r.error());
    std::vector<std::string> kel;
    for (const auto& w : foldWords(rec->kelurahan)) kel.push_back(variantKey(w));
    name->bind(1, id).bind(2, joinKeys(terms)).bind(3, joinKeys(kel)).bind(4, rec->rt);
    if (auto r = name->run(); !r) return std::unexpected(r.error());
  }
  if (digester.finish() != file->bucket_digests)
    return fail(Errc::Unverifiable, "integrity: stored records differ from the signed data");
  // Built after the rows: one sort instead of a million B-tree inserts.
  if (auto r = db->exec("CREATE INDEX people_nik ON people (nik_hash)"); !r)
    return std::unexpected(r.error());
  auto meta =
      db->prepare("INSERT INTO meta (id, format, content_digest, records) VALUES (1, ?1, ?2, ?3)");
  if (!meta) return std::unexpected(meta.error());
  meta->bind(1, kFormat).bind(2, content_digest).bind(3, id);
  if (auto r = meta->run(); !r) return std::unexpected(r.error());
  all.value() = sql::Stmt();
  person.value() = sql::Stmt();
  name.value() = sql::Stmt();
  meta.value() = sql::Stmt();
  if (auto r = db->exec("COMMIT"); !r) return std::unexpected(r.error());
  return {};
}

}  // namespace

// One read-only connection with its statements; the index keeps a few, so
// that lookups on different threads do not queue behind one connection.
struct Conn {
  std::mutex mu;
  std::optional<sql::Db> db;
  std::optional<sql::Stmt> by_nik, by_name;
  ~Conn() {
    by_nik.reset();
    by_name.reset();
    db.reset();
  }
};

constexpr std::size_t kConnections = 4;
constexpr std::size_t kRankable = 256;  // match sets up to this size are ranked

struct SearchIndex::Impl {
  IndexStats stats;
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
      auto db = sql::Db::open(index_path.string(), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
      if (!db) return nullptr;
      if (i == 0) {
        auto meta = db->prepare("SELECT format, content_digest, records FROM meta WHERE id = 1");
        if (!meta || !meta->step().value_or(false)) return nullptr;
        if (meta->integer(0) != kFormat || meta->text(1) != content_digest) return nullptr;
        impl->stats.records = static_cast<std::uint64_t>(meta->integer(2));
        impl->stats.content_digest = std::string(content_digest);
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
      if (!nik || !nm) return nullptr;
      auto c = std::make_unique<Conn>();
      c->db.emplace(std::move(*db));
      c->by_nik.emplace(std::move(*nik));
      c->by_name.emplace(std::move(*nm));
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

std::string ftsExpression(const std::vector<std::vector<std::string>>& name_alts,
                          const std::vector<std::string>& kelurahan_keys, std::string_view rt,
                          bool prefix) {
  // In the prefix pass only the last word of each alternative is a prefix
  // (the caller is still spelling it; the words before are whole): a prefix
  // term merges the posting lists of every indexed word it starts, which at
  // 10^6 records cost far more than the lookup itself.
  auto conj = [&](const std::vector<std::string>& keys) {
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
      out += "\"" + keys[i] + "\"" + (prefix && i == last ? "*" : "");
    }
    return out;
  };
  std::string names;
  for (const auto& alt : name_alts) {
    auto c = conj(alt);
    if (c.empty()) continue;
    if (!names.empty()) names += " OR ";
    names += "(" + c + ")";
  }
  if (names.empty()) return {};
  std::string expr = "terms : (" + names + ")";
  if (auto k = conj(kelurahan_keys); !k.empty()) expr += " AND kel : (" + k + ")";
  if (safeTerm(rt)) expr += " AND rt : \"" + std::string(rt) + "\"";
  return expr;
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
  auto [conn, lock] = impl_->acquire();
  auto& s = *conn->by_name;
  std::vector<std::string> out;
  std::vector<std::pair<std::int64_t, std::string>> rows;  // (name terms, card)
  for (bool prefix : {false, true}) {
    if (out.size() >= limit) break;
    const auto expr = ftsExpression(name_alts, kelurahan_keys, rt, prefix);
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
