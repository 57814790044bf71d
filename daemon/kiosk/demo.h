#pragma once
/// The built-in demo (`kartu-bahagiad --demo`): in a state directory it makes DEV
/// keys, a DEV trust root, a synthetic roster plus one card per verdict, publishes
/// and imports signed snapshots with the real cache code, and encodes card
/// images with the real card code; taps go to the sim reader.
///
/// "Data too old", "stale" and "no data" need a cache in that state, so those
/// demo cards (KB-DEMO-EXPIRED, KB-DEMO-STALE, KB-DEMO-NODATA) are answered from
/// their own cache files (an expired snapshot, a 3-day-old one, none); every
/// other card from the main cache. Production has only the main cache.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "card/originality.h"
#include "kiosk/data_source.h"
#include "kiosk/demo_control.h"
#include "sim/sim_reader.h"
#include "trust/trust.h"

namespace kb::kiosk {

struct DemoCard {
  std::string card_no;
  std::string label;
  std::string expected;  ///< ACTIVE, INACTIVE, BLOCKED, NOT_FOUND, CLONED, FORGED, UNKNOWN_FORMAT,
                         ///< READ_ERROR, ...
  std::string screen;    ///< the screen the kiosk should show
  std::optional<std::string> error;
  reader::CardImage image;
};

class Demo final : public DemoControl, public DataSource {
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
  Lookup lookup(std::string_view card_no, UnixSeconds now) override;
  DataStatus status(UnixSeconds now) override;

 private:
  Demo(reader::SimReader& sim, trust::TrustRoot root);
  Result<reader::CardImage> imageFor(std::string_view card_no,
                                     const std::optional<std::string>& uid) const;

  reader::SimReader& sim_;
  trust::TrustRoot root_;
  std::vector<card::OriginalityKey> originality_keys_;
  std::optional<crypto::SigningKey> card_key_;
  std::optional<card::OriginalitySigningKey> nxp_key_;  // plays NXP's part for demo chips
  std::vector<DemoCard> specials_;
  std::map<std::string, std::string, std::less<>>
      roster_uids_;  // card_no -> raw UID (possibly empty)
  std::size_t roster_size_ = 0;
  std::unique_ptr<cache::Cache> main_, stale_, expired_;
  std::unique_ptr<CacheSource> main_source_;
};

}  // namespace kb::kiosk
