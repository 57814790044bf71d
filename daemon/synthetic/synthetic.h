#pragma once
/// Test and demo data, not part of the product's roster handling: a deterministic
/// synthetic roster CSV (docs/contracts.md §1) with realistic Kota Jambi data, for
/// `kbctl roster synth`, the --demo daemon, tests and benchmarks. Streams: memory
/// use does not grow with the number of cards.

#include <cstdint>
#include <iosfwd>

#include "common/error.h"

namespace kb::synthetic {

struct SynthOptions {
  std::uint64_t cards = 1000;
  std::uint64_t seed = 1;
  /// Share of cards (0-100) changed against the roster of the same seed, e.g.
  /// for delta benchmarks: a status, UID, validity or coverage change.
  double change_percent = 0;
  std::uint64_t change_seed = 0;  ///< which cards change, and how
};

struct SynthStats {
  std::uint64_t cards = 0;
  std::uint64_t rows = 0;
  std::uint64_t changed = 0;  ///< cards perturbed by change_percent
};

/// Writes the CSV (header + rows) to `out`. Card i depends only on (seed, i),
/// so the same options always give the same bytes. IO if the stream fails,
/// USAGE for a change_percent outside 0-100.
Result<SynthStats> writeSyntheticRoster(std::ostream& out, const SynthOptions& options);

}  // namespace kb::synthetic
