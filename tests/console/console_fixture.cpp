#include "console_fixture.h"

#include <sstream>
#include <stdexcept>

#include "cache/publish.h"
#include "cache/store.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace kb::console::testing {

using cache::testing::kDay;
using cache::testing::kNow;

std::string rosterHeader() {
  return "card_no,card_uid,nik,full_name,birth_date,kecamatan,kelurahan,rt,category,occupation,"
         "card_status,program,membership_no,coverage_status,valid_from,valid_to,funder,legal_"
         "basis,activity,sk_rt_no\n";
}

std::string rosterRow(const std::string& card_no, const std::string& nik, const std::string& name,
                      const std::string& kelurahan, const std::string& rt,
                      const std::string& card_status, const std::string& program) {
  return card_no + ",," + nik + ",\"" + name + "\",1990-01-01,Telanaipura," + kelurahan + "," + rt +
         ",pekerja_rentan,ojek online," + card_status + "," + program +
         ",11111111111,active,2026-01-01,2099-12-31,APBD Kota Jambi,Perwal Jambi No. 14 Tahun "
         "2025,Semenisasi jalan lingkungan,SK-RT/003/2026\n";
}

std::string testRoster(std::uint64_t synthetic) {
  std::string csv;
  if (synthetic > 0) {
    std::ostringstream out;
    synthetic::SynthOptions o;
    o.cards = synthetic;
    o.seed = 7;
    if (!synthetic::writeSyntheticRoster(out, o)) throw std::runtime_error("synthetic roster");
    csv = out.str();
  } else {
    csv = rosterHeader();
  }
  csv += rosterRow("KB-TEST-0001", "1571010101900001", "SITI NURHALIZA", "Simpang IV Sipin", "003");
  csv += rosterRow("KB-TEST-0002", "1571010101900002", "Zoë Anggraini", "Paal Lima", "012");
  csv += rosterRow("KB-TEST-0003", "1571010101900003", "NUR'AINI SYAHPUTRI", "Paal Lima", "012");
  csv += rosterRow("KB-TEST-0004", "1571010101900004", "MUHAMMAD RIZKY", "Telanaipura", "007");
  csv += rosterRow("KB-TEST-0005", "1571010101900005", "Muhamad Rizki Fadillah", "Telanaipura",
                   "008", "revoked");
  csv += rosterRow("KB-TEST-0006", "1571010101900006", "AHMAD SYARA'I", "Buluran Kenali", "007");
  return csv;
}

void buildStaffCache(StaffCache& out, const std::string& csv) {
  roster::RosterOptions ro;
  ro.profile = roster::Profile::Staff;
  ro.nik_key = kNikKey;
  auto parsed = roster::parseRoster(csv, "test.csv", ro);
  if (!parsed) throw std::runtime_error("roster: " + parsed.error().front().format());
  out.root = cache::testing::makeRoot(out.keys);
  cache::PublishOptions po;
  po.profile = roster::Profile::Staff;
  po.serial = 1;
  po.signed_at = kNow - 3600;
  po.expires_at = kNow + 30 * kDay;
  po.out_dir = out.dir / "pub";
  auto pub = cache::publish(std::move(parsed->cards), *out.root, {out.keys.snapshot}, po);
  if (!pub) throw std::runtime_error("publish: " + pub.error().message);
  cache::ImportOptions io;
  io.profile = roster::Profile::Staff;
  auto imp = cache::importBundle(out.db(), pub->snapshot, *out.root, kNow, io);
  if (!imp) throw std::runtime_error("import: " + imp.error().message);
  cache::CacheOptions co;
  co.profile = roster::Profile::Staff;
  out.cache.emplace(cache::Cache::open(out.db(), *out.root, kNow, co));
}

}  // namespace kb::console::testing
