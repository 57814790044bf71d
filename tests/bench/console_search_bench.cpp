// Console name search without TLS or HTTP: opens a set-up console node's
// cache and search index (tests/console/setup_node.sh, e.g. the 10^6 node that
// tests/bench/console_bench.sh keeps in KB_CONSOLE_BENCH_DIR) and runs name
// queries through the verified search directly, timing the phases: the index
// (FTS5) query, and the whole verified search (index + cache re-check of
// every candidate). Then THREADS threads search at once (throughput).
//   console_search_bench NODE_DIR QUERIES_TSV [THREADS] [SECONDS]
// QUERIES_TSV: one "name<TAB>kelurahan" a line (kelurahan may be empty).
// Wall-clock figures: never part of `make test`.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "common/time.h"
#include "console/name_key.h"
#include "console/search.h"
#include "console/search_index.h"
#include "roster/nik_key.h"
#include "trust/trust.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace console = kb::console;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

void row(const char* what, const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f |\n", what, v.size(),
              v.empty() ? 0 : sum / static_cast<double>(v.size()), pct(v, 0.5), pct(v, 0.99),
              pct(v, 1.0));
}

std::vector<std::string> keysOf(std::string_view text) {
  std::vector<std::string> keys;
  for (const auto& w : console::foldWords(text)) keys.push_back(console::variantKey(w));
  return keys;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: console_search_bench NODE_DIR QUERIES_TSV [THREADS] [SECONDS]\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int threads = argc > 3 ? std::stoi(argv[3]) : 4;
  const int seconds = argc > 4 ? std::stoi(argv[4]) : 5;
  std::vector<console::SearchQuery> queries;
  {
    std::ifstream in(argv[2]);
    std::string line;
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      console::SearchQuery q;
      q.kind = console::QueryKind::Name;
      q.name = line.substr(0, tab);
      if (tab != std::string::npos) q.kelurahan = line.substr(tab + 1);
      queries.push_back(std::move(q));
    }
  }
  const auto now = kb::nowSeconds();
  auto root = kb::trust::TrustRoot::load((dir / "keys/root.json").string(), now);
  auto nik_key = kb::roster::readNikKey(dir / "keys/nik.key");
  if (!root || !nik_key) {
    std::cerr << "cannot read the node's root or NIK key\n";
    return 1;
  }
  kb::cache::CacheOptions co;
  co.profile = kb::roster::Profile::Staff;
  auto cache = kb::cache::Cache::open(dir / "state/cache.db", *root, now, co);
  const auto info = cache.info(now);
  if (!info.serving) {
    std::cerr << "cache not serving: " << info.reason << "\n";
    return 1;
  }
  const auto index_path = dir / "state/console-index.db";
  auto t0 = Clock::now();
  console::Searcher searcher(cache, *root, index_path, *nik_key);
  if (auto r = searcher.prepare(now); !r) {
    std::cerr << "index: " << r.error().message << "\n";
    return 1;
  }
  std::printf("index open (or build): %.0f ms\n", ms(Clock::now() - t0));
  auto index = console::SearchIndex::openOrBuild(index_path, info.file, *root, info.content_digest);
  if (!index) {
    std::cerr << "index: " << index.error().message << "\n";
    return 1;
  }

  // One thread, phase by phase.
  std::vector<double> fts, lookups, whole;
  std::size_t candidates = 0, results = 0, lookups_n = 0;
  for (const auto& q : queries) {
    auto a = Clock::now();
    auto found = index->byName(console::queryAlternatives(q.name), keysOf(q.kelurahan), q.rt,
                               2 * (console::kMaxResults + 1));
    fts.push_back(ms(Clock::now() - a));
    if (!found) {
      std::cerr << "byName: " << found.error().message << "\n";
      return 1;
    }
    candidates += found->size();
    a = Clock::now();
    for (const auto& card : *found) {
      (void)cache.lookup(card, now);
      ++lookups_n;
    }
    lookups.push_back(ms(Clock::now() - a));
    a = Clock::now();
    auto ans = searcher.search(q, now);
    whole.push_back(ms(Clock::now() - a));
    if (!ans) {
      std::cerr << "search: " << ans.error().message << "\n";
      return 1;
    }
    results += ans->results.size();
  }
  std::printf("%zu queries, %.1f candidates and %.1f results a query\n\n", queries.size(),
              static_cast<double>(candidates) / static_cast<double>(queries.size()),
              static_cast<double>(results) / static_cast<double>(queries.size()));
  std::printf(
      "| phase (1 thread) | n | mean ms | p50 ms | p99 ms | max ms "
      "|\n|---|---:|---:|---:|---:|---:|\n");
  row("index query (byName)", fts);
  row("cache re-check of its candidates", lookups);
  row("verified search (Searcher::search)", whole);

  // THREADS threads at once, closed loop.
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> done{0};
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::size_t i = static_cast<std::size_t>(t) * 97;
      while (!stop) {
        const auto& q = queries[i++ % queries.size()];
        const auto a = Clock::now();
        auto ans = searcher.search(q, now);
        lat[static_cast<std::size_t>(t)].push_back(ms(Clock::now() - a));
        if (!ans) std::abort();
        ++done;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::printf("\n%d threads, %.1f s: %.0f searches/s\n", threads, secs,
              static_cast<double>(done) / secs);
  std::printf(
      "| verified search | n | mean ms | p50 ms | p99 ms | max ms "
      "|\n|---|---:|---:|---:|---:|---:|\n");
  row("concurrent", all);
  return 0;
}
