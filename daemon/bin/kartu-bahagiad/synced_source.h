#pragma once
// The kiosk's data source with the background sync's fields in /api/state's
// `data` (last_sync, last_sync_attempt, last_sync_error, source): lookups go to
// the cache unchanged; status() only copies the worker's status under its mutex.

#include "kiosk/data_source.h"
#include "sync/worker.h"

namespace kb {

class SyncedSource : public kiosk::DataSource {
 public:
  SyncedSource(kiosk::DataSource& inner, const sync::SyncWorker& worker)
      : inner_(inner), worker_(worker) {}
  kiosk::Lookup lookup(std::string_view card_no, UnixSeconds now) override {
    return inner_.lookup(card_no, now);
  }
  kiosk::DataStatus status(UnixSeconds now) override {
    auto s = inner_.status(now);
    sync::addToData(worker_.status(), s.data);
    return s;
  }

 private:
  kiosk::DataSource& inner_;
  const sync::SyncWorker& worker_;
};

}  // namespace kb
