// kbctl roster synth / roster check: make a synthetic roster, check a real one.

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>

#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "common/files.h"
#include "roster/errors.h"
#include "roster/nik_key.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace kb::cli {
namespace {

// 10^7 cards is about 3 GB of CSV; well past that is a mistake, not a roster.
constexpr std::uint64_t kMaxRosterBytes = 8ULL << 30;

constexpr const char* kSynthUsage =
    "usage: kbctl roster synth --cards N --seed S --out FILE\n"
    "                          [--change-percent P --change-seed S2]\n"
    "\n"
    "Writes a synthetic roster CSV (docs/contracts.md section 1) with realistic Kota Jambi data:\n"
    "the 11 kecamatan and their kelurahan, RT numbers, Indonesian names, the card categories,\n"
    "JKN PBI, JKK/JKM under Perwal 14/2025 and Kampung Bahagia activity cover with SK numbers.\n"
    "The same N and S always give the same bytes. Streams, so N may be 10^7.\n"
    "\n"
    "  --cards N            number of cards (about 1.6 rows per card)\n"
    "  --seed S             data seed (a whole number)\n"
    "  --out FILE           output file, replaced atomically; '-' writes to stdout\n"
    "  --change-percent P   change about P% of the cards (0-100, decimals allowed) against\n"
    "                       the roster of the same seed: status, UID, renewals, lapses\n"
    "  --change-seed S2     which cards change and how (default 1)\n";

constexpr const char* kCheckUsage =
    "usage: kbctl roster check --roster FILE [--profile kiosk|staff] [--nik-key FILE] [--report]\n"
    "\n"
    "Checks a roster CSV as 'kbctl publish' would and prints its counts. A bad row is printed\n"
    "as 'FILE:LINE: COLUMN: reason' on stderr, followed by 'error: BAD_ROSTER: ...'.\n"
    "\n"
    "  --roster FILE    the roster CSV (UTF-8, RFC 4180, header row required)\n"
    "  --profile P      kiosk (default: masked names, no NIK) or staff (needs --nik-key)\n"
    "  --nik-key FILE   key for the staff profile's NIK hash (at least 16 bytes)\n"
    "  --report         list every bad row, not only the first\n";

Result<double> percentOption(const Args& args, const std::string& name) {
  auto v = args.get(name);
  if (!v) return 0.0;
  double out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || end != v->data() + v->size() || !(out >= 0 && out <= 100))
    return fail(Errc::Usage, "--" + name + " takes a number from 0 to 100, not '" + *v + "'");
  return out;
}

Result<int> runSynth(const Words& words) {
  auto args = Args::parse(words, {"cards", "seed", "out", "change-percent", "change-seed"}, {});
  if (!args) return std::unexpected(args.error());
  auto cards = args->integer("cards");
  if (!cards) return std::unexpected(cards.error());
  auto seed = args->integer("seed");
  if (!seed) return std::unexpected(seed.error());
  auto out_path = args->required("out");
  if (!out_path) return std::unexpected(out_path.error());
  auto percent = percentOption(*args, "change-percent");
  if (!percent) return std::unexpected(percent.error());
  auto change_seed = args->integer("change-seed", 1);
  if (!change_seed) return std::unexpected(change_seed.error());
  if (*cards < 0) return fail(Errc::Usage, "--cards must not be negative");

  synthetic::SynthOptions opts;
  opts.cards = static_cast<std::uint64_t>(*cards);
  opts.seed = static_cast<std::uint64_t>(*seed);
  opts.change_percent = *percent;
  opts.change_seed = static_cast<std::uint64_t>(*change_seed);

  Result<synthetic::SynthStats> stats;
  if (*out_path == "-") {
    stats = synthetic::writeSyntheticRoster(std::cout, opts);
    if (!stats) return std::unexpected(stats.error());
    std::cerr << "wrote " << stats->cards << " cards, " << stats->rows << " rows\n";
    return 0;
  }
  // Written beside the target and renamed, so a half-written roster never
  // sits under the real name.
  std::filesystem::path target(*out_path);
  std::filesystem::path part = target;
  part += ".part";
  {
    std::ofstream file(part, std::ios::binary | std::ios::trunc);
    if (!file) return fail(Errc::Io, part.string() + ": cannot create");
    stats = synthetic::writeSyntheticRoster(file, opts);
    file.close();
    if (stats && !file) stats = fail(Errc::Io, part.string() + ": cannot write");
  }
  std::error_code ec;
  if (!stats) {
    std::filesystem::remove(part, ec);
    return std::unexpected(
        Error{stats.error().code, target.string() + ": " + stats.error().message});
  }
  std::filesystem::rename(part, target, ec);
  if (ec) return fail(Errc::Io, target.string() + ": cannot rename into place: " + ec.message());
  std::cout << "wrote " << target.string() << ": " << stats->cards << " cards, " << stats->rows
            << " rows";
  if (opts.change_percent > 0) std::cout << ", " << stats->changed << " changed";
  std::cout << '\n';
  return 0;
}

Result<int> runCheck(const Words& words) {
  auto args = Args::parse(words, {"roster", "profile", "nik-key"}, {"report"});
  if (!args) return std::unexpected(args.error());
  auto path = args->required("roster");
  if (!path) return std::unexpected(path.error());

  roster::RosterOptions opts;
  std::string profile = args->get("profile").value_or("kiosk");
  if (profile == "staff") {
    opts.profile = roster::Profile::Staff;
    auto key_path = args->get("nik-key");
    if (!key_path) return fail(Errc::Usage, "the staff profile needs --nik-key FILE");
    auto key = roster::readNikKey(*key_path);
    if (!key) return std::unexpected(key.error());
    opts.nik_key = std::move(*key);
  } else if (profile != "kiosk") {
    return fail(Errc::Usage, "--profile is kiosk or staff, not '" + profile + "'");
  } else if (args->has("nik-key")) {
    return fail(Errc::Usage, "--nik-key only applies to --profile staff");
  }
  const bool report = args->has("report");
  opts.max_issues = report ? std::numeric_limits<std::size_t>::max() : 1;

  auto csv = readFile(*path, kMaxRosterBytes);
  if (!csv) return std::unexpected(csv.error());
  auto parsed = roster::parseRoster(*csv, *path, opts);
  if (!parsed) {
    for (const auto& issue : parsed.error()) std::cerr << issue.format() << '\n';
    if (report)
      return fail(RosterErrc::BadRoster, *path + ": " + std::to_string(parsed.error().size()) +
                                             " problem(s), nothing accepted");
    return fail(RosterErrc::BadRoster,
                *path + ": bad row, nothing accepted (--report lists every bad row)");
  }
  for (const auto& w : parsed->warnings) std::cerr << "warning: " << w << '\n';

  std::size_t coverages = 0, uncovered = 0, personalised = 0;
  std::map<std::string, std::size_t> by_status, by_category;
  for (const auto& card : parsed->cards) {
    coverages += card.coverages.size();
    uncovered += card.coverages.empty() ? 1 : 0;
    personalised += card.card_uid.empty() ? 0 : 1;
    ++by_status[card.status];
    ++by_category[card.category];
  }
  auto line = [](const std::map<std::string, std::size_t>& counts) {
    std::string out;
    for (const auto& [name, n] : counts)
      out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
    return out;
  };
  std::cout << *path << ": ok, " << parsed->rows << " rows, " << parsed->cards.size() << " cards, "
            << coverages << " coverages (profile " << profile << ")\n"
            << "cards by status: " << line(by_status) << '\n'
            << "cards by category: " << line(by_category) << '\n'
            << "cards without coverage: " << uncovered
            << ", without chip UID: " << parsed->cards.size() - personalised << '\n';
  return 0;
}

}  // namespace

std::vector<Command> rosterCommands() {
  return {
      {"roster synth", "write a deterministic synthetic roster CSV (tests, benchmarks)",
       kSynthUsage, runSynth},
      {"roster check", "check a roster CSV and print its counts", kCheckUsage, runCheck},
  };
}

}  // namespace kb::cli
