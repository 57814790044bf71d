#pragma once
/// The built-in demo (`kartu-bahagiad --demo`), a library of its own that only the
/// daemon's main links: in a state directory it makes DEV keys, a DEV trust root,
/// a synthetic roster plus one card per verdict, publishes and imports signed
/// snapshots with the real cache code, and encodes card images with the real card
/// code; taps go to the sim reader.
///
/// What each demo card shows is one row of a data table (scenarios()): its card
/// number, the chip it is written on (genuine, a clone, forged, blank, pulled away
/// mid-read) and the cache that answers it. "Data too old", "stale" and "no data"
/// need a cache in that state, so those rows name their own cache (an expired
/// snapshot, a 3-day-old one, none); every other card is answered from the main
/// cache. Production has only the main cache.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "card/originality.h"
#include "kiosk/data_source.h"
#include "kiosk/demo_control.h"
#include "sim/sim_reader.h"
#include "trust/trust.h"

namespace kb::demo {

/// How a scenario's chip is made.
enum class ChipKind {
  Genuine,  ///< the card's own credential on its own chip
  Clone,    ///< `of`'s credential and originality signature on another chip
  Forged,   ///< signed by a card key the trust root does not list
  Blank,    ///< an empty NTAG213: not a Kartu Bahagia
  Pulled,   ///< `of`'s image cut short, as when the card leaves the field mid-read
};

/// Which cache answers the scenario's lookups.
enum class Answer {
  Main,     ///< the demo's current snapshot (as in production)
  Stale,    ///< a snapshot signed 3 days ago
  Expired,  ///< a snapshot past its expiry and grace
  NoData,   ///< as if no valid cache existed
};

/// One demo card: what the kiosk should answer when it is tapped.
struct Scenario {
  std::string_view card_no;
  std::string_view label;
  std::string_view expected;  ///< the verdict or card check: ACTIVE, BLOCKED, CLONED, ...
  std::string_view screen;    ///< the screen the kiosk should show
  std::string_view error;     ///< the error code on that screen; empty for none
  ChipKind chip = ChipKind::Genuine;
  Answer answer = Answer::Main;
  std::string_view of = {};  ///< Clone and Pulled: the card whose credential is on the chip
};

/// The demo's scenario table, in the order GET /api/demo/cards lists them.
std::span<const Scenario> scenarios();

class Demo final : public kiosk::DemoControl, public kiosk::DataSource {
 public:
  /// Creates (or recreates) the demo in `state_dir`. Refuses a non-empty
  /// directory that is not a demo directory (no demo.json in it).
  static Result<std::unique_ptr<Demo>> prepare(const std::filesystem::path& state_dir,
                                               reader::SimReader& sim,
                                               cache::FreshnessPolicy policy, UnixSeconds now);

  const trust::TrustRoot& root() const { return root_; }
  const std::vector<card::OriginalityKey>& originalityKeys() const { return originality_keys_; }
  std::size_t rosterSize() const { return roster_size_; }

  // DemoControl
  nlohmann::json cards() const override;
  Result<void> tap(std::string_view card_no, const std::optional<std::string>& uid_hex) override;
  void remove() override;

  // DataSource
  kiosk::Lookup lookup(std::string_view card_no, UnixSeconds now) override;
  kiosk::DataStatus status(UnixSeconds now) override;

 private:
  struct Card {
    const Scenario* scenario;
    reader::CardImage image;
  };

  Demo(reader::SimReader& sim, trust::TrustRoot root);
  Result<reader::CardImage> imageFor(std::string_view card_no,
                                     const std::optional<std::string>& uid) const;
  Result<reader::CardImage> makeImage(const Scenario& scenario,
                                      const crypto::SigningKey& rogue_key) const;

  reader::SimReader& sim_;
  trust::TrustRoot root_;
  std::vector<card::OriginalityKey> originality_keys_;
  std::optional<crypto::SigningKey> card_key_;
  std::optional<card::OriginalitySigningKey> nxp_key_;  // plays NXP's part for demo chips
  std::vector<Card> cards_;
  std::map<std::string, std::string, std::less<>>
      roster_uids_;  // card_no -> raw UID (possibly empty)
  std::size_t roster_size_ = 0;
  std::unique_ptr<cache::Cache> main_, stale_, expired_;
  std::unique_ptr<kiosk::CacheSource> main_source_;
};

}  // namespace kb::demo
