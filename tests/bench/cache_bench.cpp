// cache_bench: figures for docs/PERFORMANCE.md.
//
//   cache_bench [--sizes 100000,1000000] [--lookups 200000] [--dir DIR]
//
// For each size: a synthetic roster (synthetic::writeSyntheticRoster, seed 1) is
// parsed and published, then imported into a fresh cache; each phase runs in a
// child process so its peak RSS (ru_maxrss) is its own. At the largest size it
// also measures verified lookups (bucket re-hash included), a 1% delta, and the
// alternative tamper check (an Ed25519 signature per record).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/publish.h"
#include "cache/record_codec.h"
#include "cache/store.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace kb;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peakRssMiB() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Runs `work` in a child; it returns a line of numbers sent back over a pipe.
template <class F>
std::vector<double> inChild(F work) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::vector<double> out = work();
    std::ostringstream s;
    for (double v : out) s << v << ' ';
    std::string text = s.str();
    if (::write(fds[1], text.data(), text.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "benchmark child failed\n";
    std::exit(1);
  }
  std::vector<double> out;
  std::istringstream in(text);
  for (double v; in >> v;) out.push_back(v);
  return out;
}

struct Env {
  std::filesystem::path dir;
  crypto::SigningKey root_key = crypto::SigningKey::generate().value();
  crypto::SigningKey snap_key = crypto::SigningKey::generate().value();
  UnixSeconds now = nowSeconds();
  trust::TrustRoot root = [this] {
    trust::RootSpec spec;
    spec.expires = now + 365 * 86400;
    spec.dev = true;
    spec.root_keys = {root_key.publicKey()};
    spec.snapshot_keys = {snap_key.publicKey()};
    spec.card_keys = {root_key.publicKey()};
    return trust::TrustRoot::parse(trust::makeRoot(spec, {root_key}), now).value();
  }();
};

std::string syntheticCsv(std::uint64_t cards, double change_percent) {
  std::ostringstream out;
  synthetic::SynthOptions o;
  o.cards = cards;
  o.seed = 1;
  o.change_percent = change_percent;
  o.change_seed = 7;
  if (!synthetic::writeSyntheticRoster(out, o)) std::abort();
  return out.str();
}

// Parse + publish in this process. Returns {parse s, publish s, snapshot bytes, delta bytes, delta
// entries}.
std::vector<double> publishRun(const Env& env, const std::string& csv, std::int64_t serial,
                               const std::filesystem::path& out,
                               std::optional<std::filesystem::path> base) {
  auto t0 = Clock::now();
  roster::RosterOptions ro;
  auto parsed = roster::parseRoster(csv, "synthetic.csv", ro);
  if (!parsed) {
    std::cerr << parsed.error().front().format() << '\n';
    std::exit(1);
  }
  double parse_s = secondsSince(t0);
  cache::PublishOptions po;
  po.serial = serial;
  po.signed_at = env.now - 60;
  po.expires_at = env.now + 30 * 86400;
  po.out_dir = out;
  po.base = std::move(base);
  auto t1 = Clock::now();
  auto r = cache::publish(std::move(parsed->cards), env.root, {env.snap_key}, po);
  if (!r) {
    std::cerr << "publish: " << r.error().message << '\n';
    std::exit(1);
  }
  return {parse_s, secondsSince(t1), static_cast<double>(r->snapshot_bytes),
          static_cast<double>(r->delta_bytes), static_cast<double>(r->delta_entries)};
}

// The baseline of the same run: the sqlite3 CLI's .import of the same CSV into
// a table with the cache's two indexes (as scripts/bench.sh does). -1 when the
// sqlite3 CLI is missing.
double sqliteImportSeconds(const std::string& csv, const std::filesystem::path& dir) {
  const auto csv_path = dir / "baseline.csv", db = dir / "baseline.db";
  {
    std::ofstream f(csv_path, std::ios::binary);
    f << csv;
  }
  std::filesystem::remove(db);
  std::string header = csv.substr(0, csv.find('\n'));
  if (header.starts_with("\xEF\xBB\xBF")) header.erase(0, 3);  // the CSV's BOM
  const std::string create = "sqlite3 '" + db.string() + "' 'CREATE TABLE roster(" + header +
                             "); CREATE INDEX roster_card ON roster(card_no); "
                             "CREATE INDEX roster_kelurahan ON roster(kelurahan);'";
  if (std::system(create.c_str()) != 0) return -1;
  const std::string import = "sqlite3 '" + db.string() + "' 'PRAGMA synchronous=OFF;' " +
                             "'.import --csv --skip 1 " + csv_path.string() + " roster' >/dev/null";
  auto t0 = Clock::now();
  int rc = std::system(import.c_str());
  double s = secondsSince(t0);
  std::filesystem::remove(db);
  std::filesystem::remove(csv_path);
  return rc == 0 ? s : -1;
}

double percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> sizes = {100000, 1000000};
  std::size_t lookups = 200000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "kb-cache-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--sizes") {
      sizes.clear();
      std::istringstream s(v);
      for (std::string part; std::getline(s, part, ',');) sizes.push_back(std::stoull(part));
    } else if (k == "--lookups") {
      lookups = std::stoul(v);
    } else if (k == "--dir") {
      dir = v;
    } else {
      std::cerr << "usage: cache_bench [--sizes N,N] [--lookups N] [--dir DIR]\n";
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Env env;
  env.dir = dir;

  std::printf("## Cache benchmark (%ld cores)\n\n", sysconf(_SC_NPROCESSORS_ONLN));
  std::printf(
      "| records | csv rows | parse s | publish s | parse+publish rec/s | publish peak RSS MiB | "
      "bundle bytes | bytes/record | import s | import rec/s | import peak RSS MiB | db bytes | "
      "sqlite3 .import s | import / .import |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::filesystem::path last_db;
  std::vector<std::string> sample_cards;
  std::filesystem::path last_snapshot;
  std::uint64_t last_n = 0;
  for (std::uint64_t n : sizes) {
    auto sub = dir / std::to_string(n);
    std::filesystem::create_directories(sub);
    std::string csv = syntheticCsv(n, 0);
    std::uint64_t rows = static_cast<std::uint64_t>(std::count(csv.begin(), csv.end(), '\n')) - 1;
    auto pub = inChild([&] {
      auto r = publishRun(env, csv, 1, sub, std::nullopt);
      r.push_back(peakRssMiB());
      return r;
    });
    std::filesystem::path snapshot = sub / "snapshot-1.kbs";
    std::filesystem::path db = sub / "CACHE.db";
    const double baseline_s = sqliteImportSeconds(csv, sub);
    csv.clear();
    csv.shrink_to_fit();
    auto imp = inChild([&] {
      auto t0 = Clock::now();
      auto r = cache::importBundle(db, snapshot, env.root, env.now);
      if (!r) {
        std::cerr << "import: " << r.error().message << '\n';
        std::exit(1);
      }
      return std::vector<double>{secondsSince(t0), peakRssMiB()};
    });
    const double records = static_cast<double>(n);
    std::printf(
        "| %llu | %llu | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f | %llu | "
        "%.2f "
        "| %.2f× |\n",
        static_cast<unsigned long long>(n), static_cast<unsigned long long>(rows), pub[0], pub[1],
        records / (pub[0] + pub[1]), pub[5], pub[2], pub[2] / records, imp[0], records / imp[0],
        imp[1], static_cast<unsigned long long>(std::filesystem::file_size(db)), baseline_s,
        imp[0] / baseline_s);
    std::fflush(stdout);
    last_db = db;
    last_snapshot = snapshot;
    last_n = n;
  }

  // Lookups at the largest size: random existing cards plus 10% unknown ones.
  {
    auto cache = cache::Cache::open(last_db, env.root, env.now);
    if (!cache.info(env.now).serving) {
      std::cerr << "cache not serving: " << cache.info(env.now).reason << '\n';
      return 1;
    }
    std::vector<std::string> cards;
    {
      auto src = cache::openFileSource(last_snapshot).value();
      cache::ReadOptions ro;
      (void)cache::readBundle(*src, env.root, env.now, ro,
                              [&](const cache::Entry& e) -> Result<void> {
                                cards.emplace_back(e.card_no);
                                return {};
                              });
    }
    std::mt19937_64 rng(1);
    std::vector<double> us;
    us.reserve(lookups);
    std::size_t unverifiable = 0;
    for (std::size_t i = 0; i < lookups; ++i) {
      std::string card =
          i % 10 == 9 ? "ZZ-" + std::to_string(rng() % 100000000) : cards[rng() % cards.size()];
      auto t0 = Clock::now();
      auto v = cache.lookup(card, env.now);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (v.verdict == cache::VerdictCode::Unverifiable) ++unverifiable;
    }
    double p50 = percentile(us, 0.50), p99 = percentile(us, 0.99), p999 = percentile(us, 0.999);
    auto t0 = Clock::now();
    bool deep = static_cast<bool>(cache.checkAll());
    double deep_s = secondsSince(t0);
    std::printf(
        "\n| verified lookup at %llu records | p50 us | p99 us | p99.9 us | max us | lookups | "
        "unverifiable |\n",
        static_cast<unsigned long long>(last_n));
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| bucket re-hash (%llu buckets) | %.1f | %.1f | %.1f | %.1f | %zu | %zu |\n",
                static_cast<unsigned long long>(cache.info(env.now).bucket_count), p50, p99, p999,
                us.back(), lookups, unverifiable);
    std::printf("\nfull re-hash of every bucket (checkAll): %.2f s (%s)\n", deep_s,
                deep ? "ok" : "FAILED");
  }

  // A 1% delta at the largest size, and its import.
  {
    auto sub = dir / "delta";
    std::filesystem::create_directories(sub);
    std::string csv = syntheticCsv(last_n, 1.0);
    auto pub = inChild([&] {
      auto r = publishRun(env, csv, 2, sub, last_snapshot);
      r.push_back(peakRssMiB());
      return r;
    });
    auto delta = sub / "delta-1-2.kbs";
    csv.clear();  // a forked child's peak RSS counts the parent's pages it inherits
    csv.shrink_to_fit();
    auto imp = inChild([&] {
      auto t0 = Clock::now();
      auto r = cache::importBundle(last_db, delta, env.root, env.now);
      if (!r) {
        std::cerr << "delta import: " << r.error().message << '\n';
        std::exit(1);
      }
      return std::vector<double>{secondsSince(t0), peakRssMiB()};
    });
    std::printf(
        "\n| 1%% delta at %llu records | entries | bytes | %% of snapshot | publish (with base) s "
        "| import s | import peak RSS MiB |\n",
        static_cast<unsigned long long>(last_n));
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| delta-1-2.kbs | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f |\n", pub[4], pub[3],
                100.0 * pub[3] / static_cast<double>(std::filesystem::file_size(last_snapshot)),
                pub[0] + pub[1], imp[0], imp[1]);
  }

  // The alternative: one Ed25519 signature per record, checked at each lookup.
  {
    const int n = 20000;
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) {
      roster::CardRecord r;
      r.card_no = "KB-" + std::to_string(100000000 + i);
      r.status = "active";
      r.holder = "SIT* NUR*******";
      r.category = "pekerja_rentan";
      r.kecamatan = "Telanaipura";
      r.kelurahan = "Simpang IV Sipin";
      r.rt = "003";
      roster::Coverage c{"JKK",
                         "",
                         "active",
                         "2026-01-01",
                         "2026-12-31",
                         "APBD Kota Jambi",
                         "Perwal Jambi No. 14 Tahun 2025",
                         "Gotong royong",
                         "SK-RT/003/2026"};
      r.coverages = {c, c};
      r.coverages[1].program = "JKM";
      bodies.push_back(cache::encodeRecord(r));
    }
    std::vector<std::string> sigs;
    auto t0 = Clock::now();
    for (const auto& b : bodies) sigs.push_back(env.snap_key.sign(b));
    double sign_us = secondsSince(t0) * 1e6 / n;
    auto pub = env.snap_key.publicKey();
    t0 = Clock::now();
    int ok = 0;
    for (int i = 0; i < n; ++i)
      ok += pub.verify(bodies[static_cast<std::size_t>(i)], sigs[static_cast<std::size_t>(i)]);
    double verify_us = secondsSince(t0) * 1e6 / n;
    t0 = Clock::now();
    std::string joined;
    for (int i = 0; i < 16; ++i) joined += bodies[static_cast<std::size_t>(i)];
    const int reps = 20000;
    for (int i = 0; i < reps; ++i) (void)crypto::sha256(joined);
    double bucket_hash_us = secondsSince(t0) * 1e6 / reps;
    std::printf("\n| tamper check alternative | cost |\n|---|---:|\n");
    std::printf("| Ed25519 sign per record (publish) | %.1f us (%.0f s per 10^6 records) |\n",
                sign_us, sign_us);
    std::printf("| Ed25519 verify per lookup | %.1f us |\n", verify_us);
    std::printf("| signature storage per record | 64 bytes (+%.0f%% on a %zu-byte record) |\n",
                6400.0 / static_cast<double>(bodies[0].size()), bodies[0].size());
    std::printf("| SHA-256 of one 16-record bucket (per lookup, chosen) | %.1f us |\n",
                bucket_hash_us);
    if (ok != n) std::printf("(signature check failed %d times)\n", n - ok);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
