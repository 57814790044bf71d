#include "sync/usb.h"

#include <regex>

namespace kb::sync {

namespace fs = std::filesystem;

nlohmann::json toJson(const UsbImport& r) {
  nlohmann::json null;
  return {{"at", formatUtc(r.at)},
          {"outcome", r.outcome},
          {"layout", r.layout},
          {"serial", r.serial ? nlohmann::json(*r.serial) : null},
          {"previous_serial", r.previous_serial ? nlohmann::json(*r.previous_serial) : null},
          {"file", r.file.empty() ? null : nlohmann::json(r.file)},
          {"code", r.error ? nlohmann::json(codeName(r.error->code)) : null},
          {"message", r.error ? nlohmann::json(r.error->message) : null}};
}

fs::path usbResultPath(const fs::path& state_dir) {
  return state_dir / "usb-import.json";
}

namespace {

// The newest snapshot-N.kbs, else the newest delta-B-N.kbs, at the top of `dir`.
std::optional<fs::path> newestBundle(const fs::path& dir) {
  static const std::regex kSnapshotName(R"(snapshot-([0-9]{1,18})\.kbs)"),
      kDeltaName(R"(delta-[0-9]{1,18}-([0-9]{1,18})\.kbs)");
  std::optional<fs::path> best_snap, best_delta;
  std::int64_t snap_serial = -1, delta_serial = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const std::string name = e.path().filename().string();
    std::smatch m;
    if (std::regex_match(name, m, kSnapshotName) && std::stoll(m[1].str()) > snap_serial) {
      snap_serial = std::stoll(m[1].str());
      best_snap = e.path();
    } else if (std::regex_match(name, m, kDeltaName) && std::stoll(m[1].str()) > delta_serial) {
      delta_serial = std::stoll(m[1].str());
      best_delta = e.path();
    }
  }
  return best_snap ? best_snap : best_delta;
}

}  // namespace

UsbImport importUsb(const fs::path& dir, SyncOptions options, trust::TrustRoot& root,
                    UnixSeconds now) {
  UsbImport out;
  out.at = now;
  std::error_code ec;
  fs::path base = dir;
  if (fs::is_directory(dir / "kartu-bahagia", ec)) base = dir / "kartu-bahagia";
  if (!fs::is_directory(base, ec)) {
    out.error = Error{Errc::NotFound, dir.string() + ": not a directory"};
    return out;
  }
  if (fs::is_regular_file(base / std::string(kTimestampFile), ec)) {
    out.layout = "mirror";
    options.mirrors = {"file://" + fs::absolute(base, ec).string() + "/"};
    options.http.allow_file = true;
    auto r = syncOnce(options, root, now);
    if (!r) {
      out.error = r.error();
      return out;
    }
    out.outcome = r->outcome == SyncOutcome::Updated ? "imported" : "current";
    out.serial = r->serial;
    out.previous_serial = r->previous_serial;
    return out;
  }
  auto bundle = newestBundle(base);
  if (!bundle) {
    out.error = Error{Errc::NotFound,
                      "no timestamp.json and no snapshot-N.kbs or "
                      "delta-B-N.kbs on the stick"};
    return out;
  }
  out.layout = "bundle";
  out.file = bundle->filename().string();
  auto r = cache::importBundle(options.db, *bundle, root, now, options.import);
  if (!r) {
    out.error = Error{r.error().code, out.file + ": " + r.error().message};
    return out;
  }
  out.outcome = "imported";
  out.serial = r->manifest.serial;
  out.previous_serial = r->previous_serial;
  return out;
}

}  // namespace kb::sync
