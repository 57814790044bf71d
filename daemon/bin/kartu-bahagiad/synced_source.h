#pragma once
// The kiosk's data source with the background sync's fields in /api/state's
// `data` (last_sync, last_sync_attempt, last_sync_error, source) when a sync
// runs, and the last USB import's result (usb_import, written by kbctl
// import-usb) always: lookups go to the cache unchanged; status() only copies
// the worker's status under its mutex and reads the small result file.

#include <filesystem>

#include "common/files.h"
#include "kiosk/data_source.h"
#include "sync/worker.h"

namespace kb {

class SyncedSource : public kiosk::DataSource {
 public:
  SyncedSource(kiosk::DataSource& inner, const sync::SyncWorker* worker,
               std::filesystem::path usb_result)
      : inner_(inner), worker_(worker), usb_result_(std::move(usb_result)) {}
  kiosk::Lookup lookup(std::string_view card_no, UnixSeconds now) override {
    return inner_.lookup(card_no, now);
  }
  kiosk::DataStatus status(UnixSeconds now) override {
    auto s = inner_.status(now);
    if (worker_) sync::addToData(worker_->status(), s.data);
    nlohmann::json usb;
    if (auto text = readFile(usb_result_, 64 * 1024)) {
      usb = nlohmann::json::parse(*text, nullptr, false);
      if (usb.is_discarded() || !usb.is_object()) usb = nlohmann::json();
    }
    s.data["usb_import"] = usb;
    return s;
  }

 private:
  kiosk::DataSource& inner_;
  const sync::SyncWorker* worker_;
  std::filesystem::path usb_result_;
};

}  // namespace kb
