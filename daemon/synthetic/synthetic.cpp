#include "synthetic/synthetic.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "common/time.h"

namespace kb::synthetic {
namespace {

// ---- Geography ------------------------------------------------------------
// The 11 kecamatan of Kota Jambi with their Kemendagri codes (15.71.xx; 01, 07,
// 09 and 11 confirmed by the 2022 pemekaran decree) and the 62 kelurahan as of
// before the 2023 split. The kelurahan-to-kecamatan assignment is written from
// memory of the 2018 pemekaran: check it against "Kota Jambi Dalam Angka"
// before using it for anything but synthetic data.
struct Kecamatan {
  std::string_view name;
  int code;
  std::span<const std::string_view> kelurahan;
};

constexpr std::array<std::string_view, 6> kTelanaipura{"Buluran Kenali",   "Pematang Sulur",
                                                       "Penyengat Rendah", "Simpang IV Sipin",
                                                       "Telanaipura",      "Teluk Kenali"};
constexpr std::array<std::string_view, 5> kJambiSelatan{"Pakuan Baru", "Pasir Putih", "Tambak Sari",
                                                        "The Hok", "Wijaya Pura"};
constexpr std::array<std::string_view, 9> kJambiTimur{
    "Budiman",   "Kasang",        "Kasang Jaya",    "Rajawali",    "Sijenjang",
    "Sulanjana", "Talang Banjar", "Tanjung Pinang", "Tanjung Sari"};
constexpr std::array<std::string_view, 4> kPasarJambi{"Beringin", "Orang Kayo Hitam", "Pasar Jambi",
                                                      "Sungai Asam"};
constexpr std::array<std::string_view, 6> kPelayangan{
    "Arab Melayu", "Jelmu", "Mudung Laut", "Tahtul Yaman", "Tanjung Johor", "Tengah"};
constexpr std::array<std::string_view, 5> kDanauTeluk{
    "Olak Kemang", "Pasir Panjang", "Tanjung Pasir", "Tanjung Raden", "Ulu Gedong"};
constexpr std::array<std::string_view, 5> kKotaBaru{"Kenali Asam Atas", "Kenali Asam Bawah",
                                                    "Paal Lima", "Simpang III Sipin", "Suka Karya"};
constexpr std::array<std::string_view, 7> kJelutung{"Cempaka Putih", "Handil Jaya",   "Jelutung",
                                                    "Kebun Handil",  "Lebak Bandung", "Payo Lebar",
                                                    "Talang Jauh"};
constexpr std::array<std::string_view, 5> kAlamBarajo{"Bagan Pete", "Beliung", "Kenali Besar",
                                                      "Mayang Mangurai", "Rawasari"};
constexpr std::array<std::string_view, 5> kDanauSipin{"Legok", "Murni", "Selamat", "Solok Sipin",
                                                      "Sungai Putri"};
constexpr std::array<std::string_view, 5> kPaalMerah{"Eka Jaya", "Lingkar Selatan", "Paal Merah",
                                                     "Payo Selincah", "Talang Bakung"};

constexpr std::array<Kecamatan, 11> kKecamatan{{
    {"Telanaipura", 1, kTelanaipura},
    {"Jambi Selatan", 2, kJambiSelatan},
    {"Jambi Timur", 3, kJambiTimur},
    {"Pasar Jambi", 4, kPasarJambi},
    {"Pelayangan", 5, kPelayangan},
    {"Danau Teluk", 6, kDanauTeluk},
    {"Kota Baru", 7, kKotaBaru},
    {"Jelutung", 8, kJelutung},
    {"Alam Barajo", 9, kAlamBarajo},
    {"Danau Sipin", 10, kDanauSipin},
    {"Paal Merah", 11, kPaalMerah},
}};

// ---- People ---------------------------------------------------------------
constexpr std::array<std::string_view, 40> kMaleNames{
    "Ahmad",    "Muhammad", "M.",      "Budi",   "Rizki",    "Fajar",  "Hendra",  "Agus",
    "Joko",     "Andi",     "Dedi",    "Eko",    "Hasan",    "Ismail", "Yusuf",   "Ridwan",
    "Syahrial", "Zulkifli", "Firdaus", "Hamdan", "Irwan",    "Taufik", "Rahmat",  "Syaiful",
    "Abdul",    "Ma'ruf",   "Sa'ad",   "Jum'at", "Ja'far",   "Azhar",  "Bambang", "Herman",
    "Junaidi",  "Mukhlis",  "Nasrul",  "Rusli",  "Safrizal", "Usman",  "Wahyu",   "Zainal"};
constexpr std::array<std::string_view, 40> kFemaleNames{
    "Siti",      "Nur",       "Dewi",     "Sri",      "Rina",    "Yuliana", "Fitri",   "Aminah",
    "Rahmawati", "Nurhaliza", "Aisyah",   "Fatimah",  "Halimah", "Zainab",  "Ratna",   "Wati",
    "Lestari",   "Mu'alimah", "Nur'aini", "Sa'diyah", "Syara'",  "Ummi",    "Rohani",  "Maimunah",
    "Asmah",     "Darmawati", "Elvi",     "Farida",   "Hasnah",  "Juwita",  "Kartini", "Latifah",
    "Marlina",   "Nurjanah",  "Purnama",  "Rosmiati", "Salmah",  "Tuti",    "Yusnani", "Zubaidah"};
constexpr std::array<std::string_view, 40> kFamilyNames{
    "Hidayat", "Saputra",  "Pratama", "Kurniawan",  "Wijaya",    "Hasibuan", "Nasution",
    "Siregar", "Lubis",    "Harahap", "Syahputra",  "Ramadhan",  "Fauzi",    "Hakim",
    "Effendi", "Anwar",    "Rahman",  "Ma'arif",    "Basri",     "Sulaiman", "Abdullah",
    "Yahya",   "Daulay",   "Gunawan", "Halim",      "Aminuddin", "Bakar",    "Chaniago",
    "Damanik", "Fadillah", "Ghani",   "Hamzah",     "Iskandar",  "Jamal",    "Kamaruddin",
    "Lukman",  "Mahmud",   "Nawawi",  "Qomaruddin", "Ya'qub"};

struct Occupations {
  std::string_view category;
  int per_mille;  // cumulative share of cards
  std::span<const std::string_view> jobs;
};
constexpr std::array<std::string_view, 9> kRentanJobs{
    "ojek online",    "tukang bangunan", "pedagang kaki lima",       "UMKM kuliner", "buruh angkut",
    "nelayan sungai", "penjahit",        "pedagang sayur, keliling", "tukang parkir"};
constexpr std::array<std::string_view, 6> kKeagamaanJobs{
    "imam", "khatib", "bilal", "guru mengaji", "pemandi jenazah", "marbot"};
constexpr std::array<std::string_view, 1> kKetuaRtJobs{"ketua RT"};
constexpr std::array<std::string_view, 4> kPhlJobs{"petugas kebersihan", "tukang taman",
                                                   "petugas parkir", "penjaga pintu air"};
constexpr std::array<std::string_view, 1> kSyaraJobs{"petugas syara'"};
constexpr std::array<std::string_view, 2> kKaderJobs{"kader posyandu", "kader PKK"};
constexpr std::array<std::string_view, 8> kWargaJobs{
    "ibu rumah tangga", "wiraswasta", "petani", "pensiunan", "karyawan swasta", "pelajar", "", ""};
constexpr std::array<Occupations, 7> kCategories{{
    {"warga", 700, kWargaJobs},
    {"pekerja_rentan", 820, kRentanJobs},
    {"phl", 870, kPhlJobs},
    {"petugas_keagamaan", 920, kKeagamaanJobs},
    {"kader", 960, kKaderJobs},
    {"petugas_syara", 980, kSyaraJobs},
    {"ketua_rt", 1000, kKetuaRtJobs},
}};

constexpr std::array<std::string_view, 8> kActivities{"Semenisasi jalan lingkungan",
                                                      "Pembangunan drainase, saluran air",
                                                      "Rehab pos ronda",
                                                      "Pengecoran gang",
                                                      "Pembuatan sumur bor",
                                                      "Perbaikan jembatan titian",
                                                      "Penanaman pohon dan taman RT",
                                                      "Pembangunan tempat sampah terpilah"};

constexpr std::string_view kApbd = "APBD Kota Jambi";
constexpr std::string_view kPerwalBpu = "Perwal Jambi No. 14 Tahun 2025";
constexpr std::string_view kPerwalKampung = "Perwal Jambi No. 18 Tahun 2025";

// ---- Determinism ----------------------------------------------------------
// splitmix64: fixed arithmetic, so a seed gives the same bytes on every
// platform (std:: distributions are implementation-defined).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix(state_ += 0x632BE59BD9B4E019ULL); }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool perMille(std::uint64_t p) { return below(1000) < p; }
  template <class T>
  const T& pick(std::span<const T> items) {
    return items[below(items.size())];
  }

 private:
  std::uint64_t state_;
};

// ---- One card ---------------------------------------------------------------
struct Row {
  std::string program, membership_no, status, valid_from, valid_to, funder, legal_basis, activity,
      sk_rt_no;
};

struct Card {
  std::string card_no, card_uid, nik, full_name, birth_date, kecamatan, kelurahan, rt, category,
      occupation, card_status;
  std::size_t row_count = 0;
  std::array<Row, 6> rows;  // at most JKN + JKK/JKM + 2 activity rows
  Row& addRow() { return rows[row_count++]; }
};

void appendNumber(std::string& out, std::uint64_t v, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  for (auto n = end - buf; n < width; ++n) out += '0';
  out.append(buf, end);
}

void appendHex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xF];
}

std::size_t rtCount(std::size_t kelurahan_index) {
  // 10-42 RT per kelurahan, about 1,650 in all, fixed by geography not by seed.
  return 10 + mix(0x52540000ULL + kelurahan_index) % 33;
}

void setCoverage(Row& row, std::string_view program, std::string_view membership_no,
                 std::string_view status, std::string_view from, std::string_view to,
                 std::string_view funder, std::string_view legal_basis) {
  row.program = program;
  row.membership_no = membership_no;
  row.status = status;
  row.valid_from = from;
  row.valid_to = to;
  row.funder = funder;
  row.legal_basis = legal_basis;
  row.activity.clear();
  row.sk_rt_no.clear();
}

void makeCard(Card& c, std::uint64_t seed, std::uint64_t index) {
  Rng rng(mix(seed ^ mix(index)));
  c.row_count = 0;

  c.card_no = "KB-1571-";
  appendNumber(c.card_no, index, 7);

  c.card_uid.clear();
  if (!rng.perMille(50)) {
    c.card_uid = "04";
    appendHex(c.card_uid, rng.next(), 12);
  }

  // Kelurahan uniformly over the 62, then its kecamatan and an RT inside it.
  std::size_t kel = rng.below(62);
  const Kecamatan* kec = &kKecamatan[0];
  std::size_t within = kel;
  for (const auto& k : kKecamatan) {
    if (within < k.kelurahan.size()) {
      kec = &k;
      break;
    }
    within -= k.kelurahan.size();
  }
  c.kecamatan = kec->name;
  c.kelurahan = kec->kelurahan[within];
  std::uint64_t rt = 1 + rng.below(rtCount(kel));
  c.rt.clear();
  appendNumber(c.rt, rt, 3);

  std::uint64_t cat_roll = rng.below(1000);
  const Occupations* cat = &kCategories[0];
  for (const auto& k : kCategories) {
    if (cat_roll < static_cast<std::uint64_t>(k.per_mille)) {
      cat = &k;
      break;
    }
  }
  c.category = cat->category;
  // Posyandu/PKK kader are mostly women, Ketua RT and petugas syara' mostly men.
  std::uint64_t female_per_mille = c.category == "kader"               ? 900
                                   : c.category == "ketua_rt"          ? 150
                                   : c.category == "petugas_syara"     ? 100
                                   : c.category == "petugas_keagamaan" ? 250
                                                                       : 500;
  bool female = rng.perMille(female_per_mille);

  auto given = [&]() {
    return female ? rng.pick<std::string_view>(kFemaleNames)
                  : rng.pick<std::string_view>(kMaleNames);
  };
  std::string_view first = given();
  c.full_name = first;
  std::uint64_t shape = rng.below(10);
  if (first == "M.") shape = std::max<std::uint64_t>(shape, 2);  // "M." abbreviates a first name
  if (shape >= 2) {  // 20% go by one name, common in Indonesia
    std::string_view second = shape < 5 ? given() : rng.pick<std::string_view>(kFamilyNames);
    if (second == first) second = rng.pick<std::string_view>(kFamilyNames);
    c.full_name += ' ';
    c.full_name += second;
  }
  if (shape == 9) {
    c.full_name += ' ';
    c.full_name += rng.pick<std::string_view>(kFamilyNames);
  }

  // Born 1945-2008.
  constexpr EpochDay kFirst = -9131;  // 1945-01-01
  constexpr EpochDay kLast = 14244;   // 2008-12-31
  c.birth_date = formatDate(static_cast<EpochDay>(
      kFirst + static_cast<EpochDay>(rng.below(static_cast<std::uint64_t>(kLast - kFirst) + 1))));
  // NIK: province+city 1571, kecamatan code, DDMMYY (+40 on the day for women), serial.
  int day = (c.birth_date[8] - '0') * 10 + (c.birth_date[9] - '0');
  c.nik = "1571";
  appendNumber(c.nik, static_cast<std::uint64_t>(kec->code), 2);
  appendNumber(c.nik, static_cast<std::uint64_t>(day) + (female ? 40U : 0U), 2);
  c.nik.append(c.birth_date, 5, 2);
  c.nik.append(c.birth_date, 2, 2);
  appendNumber(c.nik, 1 + rng.below(9999), 4);

  c.occupation = rng.pick<std::string_view>(cat->jobs);
  const int born = std::stoi(c.birth_date.substr(0, 4));
  if (c.category == "warga") {
    if ((c.occupation == "pelajar" && born < 2004) || (c.occupation == "pensiunan" && born > 1966))
      c.occupation = female ? "ibu rumah tangga" : "wiraswasta";
    if (c.occupation == "ibu rumah tangga" && !female) c.occupation = "wiraswasta";
  } else if (c.category == "petugas_keagamaan" && female) {
    c.occupation = rng.perMille(700) ? "guru mengaji" : "pemandi jenazah";
  }

  std::uint64_t status_roll = rng.below(1000);
  c.card_status = status_roll < 960   ? "active"
                  : status_roll < 980 ? "lost"
                  : status_roll < 990 ? "suspended"
                                      : "revoked";

  // JKN PBI paid by the city for most cardholders.
  if (!rng.perMille(c.category == "warga" ? 120 : 60)) {
    std::string no = "000";
    appendNumber(no, rng.below(10'000'000'000ULL), 10);
    std::string from = std::to_string(2019 + rng.below(7)) + "-01-01";
    setCoverage(c.addRow(), "JKN", no, rng.perMille(950) ? "active" : "inactive", from,
                "2026-12-31", "APBD Kota Jambi (PBI)", "Perpres No. 82 Tahun 2018");
  }

  // JKK + JKM paid from the APBD for the categories of Perwal 14/2025; kader are
  // "next" and only some are enrolled, from mid-2026.
  bool bpu = c.category != "warga" && (c.category != "kader" || rng.perMille(300));
  if (bpu) {
    std::string no;
    appendNumber(no, 10'000'000'000ULL + rng.below(90'000'000'000ULL), 11);
    std::uint64_t roll = rng.below(1000);
    std::string_view status = roll < 850 ? "active" : roll < 930 ? "ended" : "inactive";
    std::string_view from = c.category == "kader" ? "2026-07-01" : "2026-01-01";
    std::string_view to = "2026-12-31";
    if (status == "ended") from = "2025-01-01", to = "2025-12-31";
    for (std::string_view program : {"JKK", "JKM"})
      setCoverage(c.addRow(), program, no, status, from, to, kApbd, kPerwalBpu);
  }

  // Kampung Bahagia: citizens named in their Ketua RT's SK, insured for that
  // activity only (pilot August-December 2025, then the 2026 round).
  if (c.category == "warga" && rng.perMille(80)) {
    bool pilot = rng.perMille(600);
    std::string activity(rng.pick<std::string_view>(kActivities));
    activity += " RT ";
    activity += c.rt;
    if (rng.perMille(300)) {
      activity += ", Kel. ";
      activity += c.kelurahan;
    }
    std::string sk = "SK/RT" + c.rt + "/KB/" + (pilot ? "2025/" : "2026/");
    appendNumber(sk, 1 + rng.below(40), 3);
    std::string_view from = pilot ? "2025-08-01" : "2026-08-01";
    std::string_view to = pilot ? "2025-12-31" : "2026-12-31";
    std::string_view status = pilot ? "ended" : "active";
    for (std::string_view program : {"JKK", "JKM"}) {
      Row& row = c.addRow();
      setCoverage(row, program, "", status, from, to, kApbd, kPerwalKampung);
      row.activity = activity;
      row.sk_rt_no = sk;
    }
  }
}

// A later roster of the same seed: a status change, a renewal, a lapse or a
// reissued card, the kinds of change a monthly export carries.
void perturbCard(Card& c, std::uint64_t change_seed, std::uint64_t index) {
  Rng rng(mix(change_seed ^ mix(index ^ 0xC4A1ULL)));
  switch (rng.below(4)) {
    case 0:
      c.card_status =
          c.card_status == "active" ? (rng.perMille(500) ? "lost" : "suspended") : "active";
      break;
    case 1:
      for (std::size_t i = 0; i < c.row_count; ++i)
        if (c.rows[i].valid_to == "2026-12-31") c.rows[i].valid_to = "2027-12-31";
      break;
    case 2:
      for (std::size_t i = 0; i < c.row_count; ++i) {
        if (c.rows[i].status == "active") {
          c.rows[i].status = "ended";
          c.rows[i].valid_to = "2026-10-31";
          break;
        }
      }
      break;
    default:
      c.card_uid = "04";
      appendHex(c.card_uid, rng.next(), 12);
      break;
  }
}

void appendField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out += '"';
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

void appendRow(std::string& out, const Card& c, const Row* row) {
  static const Row kNoCoverage;
  const Row& r = row ? *row : kNoCoverage;
  const std::string_view fields[] = {c.card_no,       c.card_uid,    c.nik,         c.full_name,
                                     c.birth_date,    c.kecamatan,   c.kelurahan,   c.rt,
                                     c.category,      c.occupation,  c.card_status, r.program,
                                     r.membership_no, r.status,      r.valid_from,  r.valid_to,
                                     r.funder,        r.legal_basis, r.activity,    r.sk_rt_no};
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) out += ',';
    first = false;
    appendField(out, f);
  }
  out += '\n';
}

constexpr std::string_view kHeader =
    "card_no,card_uid,nik,full_name,birth_date,kecamatan,kelurahan,rt,category,occupation,"
    "card_status,program,membership_no,coverage_status,valid_from,valid_to,funder,legal_basis,"
    "activity,sk_rt_no\n";

}  // namespace

Result<SynthStats> writeSyntheticRoster(std::ostream& out, const SynthOptions& options) {
  if (!(options.change_percent >= 0 && options.change_percent <= 100))
    return fail(Errc::Usage, "change percent must be between 0 and 100");
  const auto change_threshold = static_cast<std::uint64_t>(options.change_percent * 10'000.0);
  SynthStats stats;
  std::string buf;
  buf.reserve(1 << 20);
  buf.append(kHeader);
  Card card;
  for (std::uint64_t i = 1; i <= options.cards; ++i) {
    makeCard(card, options.seed, i);
    if (change_threshold > 0 &&
        mix(options.change_seed ^ mix(i ^ 0x5E1EC7ULL)) % 1'000'000 < change_threshold) {
      perturbCard(card, options.change_seed, i);
      ++stats.changed;
    }
    if (card.row_count == 0) {
      appendRow(buf, card, nullptr);
      ++stats.rows;
    }
    for (std::size_t r = 0; r < card.row_count; ++r) appendRow(buf, card, &card.rows[r]);
    stats.rows += card.row_count;
    ++stats.cards;
    if (buf.size() >= (1u << 20) - 4096) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
      if (!out) return fail(Errc::Io, "cannot write the synthetic roster");
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out) return fail(Errc::Io, "cannot write the synthetic roster");
  return stats;
}

}  // namespace kb::synthetic
