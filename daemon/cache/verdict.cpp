#include "cache/verdict.h"

namespace kb::cache {

std::string_view verdictName(VerdictCode v) {
  switch (v) {
    case VerdictCode::Active:
      return "ACTIVE";
    case VerdictCode::Inactive:
      return "INACTIVE";
    case VerdictCode::Blocked:
      return "BLOCKED";
    case VerdictCode::NotFound:
      return "NOT_FOUND";
    case VerdictCode::Unverifiable:
      break;
  }
  return "UNVERIFIABLE";
}

std::string_view freshnessName(Freshness f) {
  switch (f) {
    case Freshness::Fresh:
      return "FRESH";
    case Freshness::Stale:
      return "STALE";
    case Freshness::Expired:
      break;
  }
  return "EXPIRED";
}

Freshness freshnessAt(const SnapshotInfo& s, UnixSeconds now, const FreshnessPolicy& p) {
  if (now > s.expires_at + p.grace) return Freshness::Expired;
  if (now > s.expires_at || now - s.signed_at > p.soft_age) return Freshness::Stale;
  return Freshness::Fresh;
}

bool coverageActive(const roster::Coverage& c, UnixSeconds now, const FreshnessPolicy& p) {
  // Dates are "YYYY-MM-DD", so string order is calendar order.
  const std::string today = formatDate(dayOf(now + p.utc_offset));
  return c.status == "active" && c.valid_from <= today && today <= c.valid_to;
}

Verdict unverifiable(std::string reason, const std::optional<SnapshotInfo>& snapshot,
                     UnixSeconds now, const FreshnessPolicy& policy) {
  Verdict v;
  v.verdict = VerdictCode::Unverifiable;
  v.reason = std::move(reason);
  v.snapshot = snapshot;
  if (snapshot) {
    v.freshness = freshnessAt(*snapshot, now, policy);
    v.age_seconds = now - snapshot->signed_at;
  }
  return v;
}

Verdict decide(std::optional<roster::CardRecord> card, const SnapshotInfo& snapshot,
               UnixSeconds now, const FreshnessPolicy& policy) {
  Verdict v;
  v.snapshot = snapshot;
  v.freshness = freshnessAt(snapshot, now, policy);
  v.age_seconds = now - snapshot.signed_at;
  v.card = std::move(card);
  if (v.card)
    for (const auto& c : v.card->coverages)
      v.active_today.push_back(coverageActive(c, now, policy));

  if (now + policy.clock_tolerance < snapshot.signed_at) {
    // With the clock before the signing time, expiry cannot be judged at all.
    v.verdict = VerdictCode::Unverifiable;
    v.reason = "clock: system time is earlier than the data's signing time";
    return v;
  }
  if (v.freshness == Freshness::Expired) {
    v.verdict = VerdictCode::Unverifiable;
    v.reason = "expired: data is past its signed expiry and the grace period";
    return v;
  }
  if (v.freshness == Freshness::Stale)
    v.reason = now > snapshot.expires_at ? "stale: past signed expiry, within grace"
                                         : "stale: older than the soft age";
  if (!v.card) {
    v.verdict = VerdictCode::NotFound;
  } else if (v.card->status != "active") {
    v.verdict = VerdictCode::Blocked;
  } else {
    bool any = false;
    for (bool a : v.active_today) any = any || a;
    v.verdict = any ? VerdictCode::Active : VerdictCode::Inactive;
  }
  return v;
}

nlohmann::json toJson(const Verdict& v) {
  using nlohmann::json;
  json j = {{"verdict", verdictName(v.verdict)}, {"freshness", freshnessName(v.freshness)}};
  if (!v.reason.empty()) j["reason"] = v.reason;
  if (v.snapshot) {
    j["snapshot"] = {{"serial", v.snapshot->serial},
                     {"signed_at", formatUtc(v.snapshot->signed_at)},
                     {"expires_at", formatUtc(v.snapshot->expires_at)},
                     {"age_seconds", v.age_seconds}};
  } else {
    j["snapshot"] = nullptr;
  }
  j["card"] = nullptr;
  j["coverages"] = json::array();
  if (v.card) {
    const auto& c = *v.card;
    json card = {{"card_no", c.card_no},    {"status", c.status},       {"holder", c.holder},
                 {"category", c.category},  {"kelurahan", c.kelurahan}, {"rt", c.rt},
                 {"kecamatan", c.kecamatan}};
    if (!c.occupation.empty()) card["occupation"] = c.occupation;
    if (!c.card_uid.empty()) card["card_uid"] = c.card_uid;
    if (!c.nik_last4.empty()) card["nik_last4"] = c.nik_last4;
    // Only whether a birth date is on file: the date itself is not (see birth_hash).
    if (!c.birth_hash.empty()) card["birth_date_on_file"] = true;
    j["card"] = std::move(card);
    for (std::size_t i = 0; i < c.coverages.size(); ++i) {
      const auto& cv = c.coverages[i];
      json cj = {{"program", cv.program},
                 {"status", cv.status},
                 {"valid_from", cv.valid_from},
                 {"valid_to", cv.valid_to},
                 {"funder", cv.funder},
                 {"legal_basis", cv.legal_basis},
                 {"active_today", i < v.active_today.size() && v.active_today[i]}};
      if (!cv.activity.empty()) cj["activity"] = cv.activity;
      if (!cv.sk_rt_no.empty()) cj["sk_rt_no"] = cv.sk_rt_no;
      if (!cv.membership_no.empty()) cj["membership_no"] = cv.membership_no;
      j["coverages"].push_back(std::move(cj));
    }
  }
  return j;
}

}  // namespace kb::cache
