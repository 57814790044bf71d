#include "console/search.h"

#include <algorithm>

#include "cache/errors.h"
#include "common/encoding.h"
#include "console/name_key.h"
#include "crypto/crypto.h"
#include "roster/nik_key.h"

namespace kb::console {
namespace {

std::vector<std::string> keysOf(std::string_view text) {
  std::vector<std::string> keys;
  for (const auto& w : foldWords(text)) keys.push_back(variantKey(w));
  return keys;
}

}  // namespace

Searcher::Searcher(cache::Cache& cache, trust::TrustRoot root, std::filesystem::path index_path,
                   std::string nik_key)
    : cache_(cache),
      index_path_(std::move(index_path)),
      nik_key_(nik_key),
      root_(std::move(root)) {}

std::string Searcher::nikHash(std::string_view nik) const {
  return roster::nikHash(nik_key_, nik);
}

std::string Searcher::birthHash(std::string_view card_no, std::string_view birth_date) const {
  return roster::birthDateHash(nik_key_, card_no, birth_date);
}

Searcher::~Searcher() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(builder_);
  }
  if (t.joinable()) t.join();
}

Result<void> Searcher::prepare(UnixSeconds now) {
  cache_.refresh();
  const auto info = cache_.info(now);
  if (!info.serving) return fail(CacheErrc::Unverifiable, info.reason);
  std::optional<trust::TrustRoot> root;
  {
    std::lock_guard lock(mu_);
    if (index_ && index_->stats().content_digest == info.content_digest) return {};
    root = root_;
  }
  auto idx = SearchIndex::openOrBuild(index_path_, info.file, *root, info.content_digest);
  if (!idx) return std::unexpected(idx.error());
  std::lock_guard lock(mu_);
  index_ = std::make_shared<SearchIndex>(std::move(*idx));
  ++generation_;
  return {};
}

void Searcher::useRoot(trust::TrustRoot root) {
  std::lock_guard lock(mu_);
  root_ = std::move(root);
}

std::uint64_t Searcher::indexGeneration() const {
  std::lock_guard lock(mu_);
  return generation_;
}

bool Searcher::maintain(UnixSeconds now) {
  cache_.refresh();
  const auto info = cache_.info(now);
  std::lock_guard lock(mu_);
  if (building_) return true;
  if (!info.serving) return false;
  if (index_ && index_->stats().content_digest == info.content_digest) return false;
  if (builder_.joinable()) builder_.join();  // a finished build
  building_ = true;
  builder_ = std::thread([this, root = root_, file = info.file, digest = info.content_digest] {
    // Built beside the live one and renamed over it; the open connections of
    // the old index keep reading the old file until they are released.
    auto idx = SearchIndex::openOrBuild(index_path_, file, root, digest);
    std::lock_guard done(mu_);
    building_ = false;
    if (!idx) {
      build_error_ = idx.error().message;
      return;
    }
    build_error_.clear();
    index_ = std::make_shared<SearchIndex>(std::move(*idx));
    ++generation_;
  });
  return true;
}

Result<std::shared_ptr<SearchIndex>> Searcher::currentIndex(UnixSeconds now) {
  maintain(now);
  std::lock_guard lock(mu_);
  if (index_) return index_;
  if (building_)
    return fail(CacheErrc::Unverifiable, "the search index is being built; try again soon");
  return fail(CacheErrc::Unverifiable,
              build_error_.empty() ? "no search index" : "search index: " + build_error_);
}

Result<bool> Searcher::accept(const std::string& card_no, const SearchQuery& q,
                              const std::string& nik_hash, UnixSeconds now, SearchAnswer& out) {
  auto v = cache_.lookup(card_no, now);
  if (v.verdict == cache::VerdictCode::Unverifiable) return fail(CacheErrc::Unverifiable, v.reason);
  if (!v.card) return false;  // the index is older than the cache: not a match any more
  const auto& c = *v.card;
  switch (q.kind) {
    case QueryKind::CardNo:
      break;
    case QueryKind::Nik:
      if (!roster::keyedHashMatches(c.nik_hash, nik_hash)) return false;
      break;
    case QueryKind::Name: {
      if (!matches(queryAlternatives(q.name), indexTerms(c.holder))) return false;
      if (!q.rt.empty() && c.rt != q.rt) return false;
      if (!q.kelurahan.empty() && !matches({keysOf(q.kelurahan)}, keysOf(c.kelurahan)))
        return false;
      break;
    }
  }
  out.results.push_back(c);
  return true;
}

Result<SearchAnswer> Searcher::search(const SearchQuery& q, UnixSeconds now) {
  SearchAnswer out;
  std::vector<std::string> candidates;
  std::string nik_hash;
  // One more than shown, and some slack for candidates the re-check drops.
  const std::size_t want = kMaxResults + 1;
  if (q.kind == QueryKind::CardNo) {
    candidates.push_back(q.card_no);
  } else {
    auto index = currentIndex(now);
    if (!index) return std::unexpected(index.error());
    Result<std::vector<std::string>> found;
    if (q.kind == QueryKind::Nik) {
      nik_hash = nikHash(q.nik);
      found = (*index)->byNikHash(nik_hash, want);
    } else {
      found = (*index)->byName(queryAlternatives(q.name), keysOf(q.kelurahan), q.rt, want * 2);
    }
    if (!found) return std::unexpected(found.error());
    candidates = std::move(*found);
  }
  out.nik_hash = nik_hash;
  for (const auto& card_no : candidates) {
    if (out.results.size() == kMaxResults) {
      out.truncated = true;
      break;
    }
    if (auto ok = accept(card_no, q, nik_hash, now, out); !ok) return std::unexpected(ok.error());
  }
  if (!out.truncated && candidates.size() >= want * (q.kind == QueryKind::Name ? 2 : 1))
    out.truncated = true;
  out.data = cache_.info(now);
  return out;
}

nlohmann::json dataJson(const cache::CacheInfo& info) {
  nlohmann::json d = {{"serving", info.serving},
                      {"freshness", cache::freshnessName(info.freshness)}};
  if (info.snapshot) {
    d["serial"] = info.snapshot->serial;
    d["signed_at"] = formatUtc(info.snapshot->signed_at);
    d["expires_at"] = formatUtc(info.snapshot->expires_at);
    d["age_seconds"] = info.age_seconds;
  }
  return d;
}

nlohmann::json toJson(const SearchAnswer& a) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& c : a.results)
    results.push_back({{"card_no", c.card_no},
                       {"holder", c.holder},
                       {"nik_last4", c.nik_last4},
                       {"kelurahan", c.kelurahan},
                       {"kecamatan", c.kecamatan},
                       {"rt", c.rt},
                       {"category", c.category},
                       {"card_status", c.status}});
  return {{"results", std::move(results)}, {"truncated", a.truncated}, {"data", dataJson(a.data)}};
}

}  // namespace kb::console
