#include "kiosk/data_source.h"

#include "cache/cache.h"

namespace kb::kiosk {

Lookup CacheSource::lookup(std::string_view card_no, UnixSeconds now) {
  Lookup out;
  // Refused data (e.g. ROLLBACK) answers UNVERIFIABLE with the reason, shown as "no data".
  out.no_cache = !cache_.info(now).serving;
  out.verdict = cache_.lookup(card_no, now);
  return out;
}

DataStatus CacheSource::status(UnixSeconds now) {
  cache_.refresh();  // an import (kbctl, USB stick) swaps the file under a running kiosk
  auto info = cache_.info(now);
  DataStatus s;
  s.serving = info.serving;
  s.code = info.code;
  nlohmann::json null;
  s.data = {{"freshness", "NONE"},    {"serial", null},      {"signed_at", null},
            {"expires_at", null},     {"age_seconds", null}, {"last_sync", null},
            {"last_sync_error", null}};
  if (info.imported_at > 0) s.data["last_sync"] = formatUtc(info.imported_at);
  if (!info.serving) {
    s.reason = info.reason.empty() ? "no verified cache" : info.reason;
    s.data["last_sync_error"] = s.reason;
    return s;
  }
  s.usable = info.freshness != cache::Freshness::Expired;
  if (!s.code.empty()) {
    s.reason = info.reason;  // serving, but not as it should (FALLBACK, TRUST_STATE)
    s.data["last_sync_error"] = s.reason;
  }
  if (!s.usable) {
    s.reason = "data past its signed expiry and grace period";
    if (s.code.empty()) s.code = "EXPIRED";
  }
  s.data["freshness"] = cache::freshnessName(info.freshness);
  s.data["age_seconds"] = info.age_seconds;
  s.age_seconds = info.age_seconds;
  s.records = info.record_count;
  if (info.snapshot) {
    s.serial = info.snapshot->serial;
    s.data["serial"] = info.snapshot->serial;
    s.data["signed_at"] = formatUtc(info.snapshot->signed_at);
    s.data["expires_at"] = formatUtc(info.snapshot->expires_at);
  }
  return s;
}

}  // namespace kb::kiosk
