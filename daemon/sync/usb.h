#pragma once
/// Data by hand: a USB stick's directory imported with the same checks as a
/// mirror (docs/contracts.md §6, "USB stick"). A stick with timestamp.json is a
/// mirror directory and is synced from file://DIR/ by syncOnce (timestamp
/// signature and expiry, root walk, rollback, lengths and digests, atomic
/// import); a stick with only signed bundles (snapshot-N.kbs, delta-B-N.kbs, at
/// its top or in kartu-bahagia/) has its newest bundle imported as `kbctl
/// import` does (signature, expiry, rollback, trust state). Either way the old
/// cache keeps serving on any refusal, and the result is written for the kiosk
/// to show (/api/state data.usb_import, the operator screen).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sync/sync.h"

namespace kb::sync {

struct UsbImport {
  std::string outcome = "refused";  ///< imported | current | refused
  std::string layout = "none";      ///< mirror | bundle | none
  std::optional<std::int64_t> serial, previous_serial;
  std::string file;  ///< the bundle's name on the stick
  std::optional<Error> error;
  UnixSeconds at = 0;
};

/// {"at", "outcome", "layout", "serial", "previous_serial", "file", "code", "message"}
nlohmann::json toJson(const UsbImport& r);

/// <state_dir>/usb-import.json: where the daemon reads the last result.
std::filesystem::path usbResultPath(const std::filesystem::path& state_dir);

/// Imports `dir` into options.db. `options` as for syncOnce (the daemon's: trust state,
/// root_dir, import options); its mirrors are replaced by file://dir/.
UsbImport importUsb(const std::filesystem::path& dir, SyncOptions options, trust::TrustRoot& root,
                    UnixSeconds now);

}  // namespace kb::sync
