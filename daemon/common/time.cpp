#include "common/time.h"

#include <chrono>
#include <cstdio>

namespace kb {
namespace {
using namespace std::chrono;

std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<EpochDay> dateAt(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
  if (!y || !m || !d) return std::nullopt;
  year_month_day ymd{year{*y}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<EpochDay>(sys_days{ymd}.time_since_epoch().count());
}
}  // namespace

UnixSeconds nowSeconds() {
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatDate(EpochDay d) {
  year_month_day ymd{sys_days{days{d}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

EpochDay dayOf(UnixSeconds t) {
  return static_cast<EpochDay>(floor<days>(sys_seconds{seconds{t}}).time_since_epoch().count());
}

std::string formatUtc(UnixSeconds t) {
  EpochDay d = dayOf(t);
  UnixSeconds rest = t - static_cast<UnixSeconds>(d) * 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02dZ", static_cast<int>(rest / 3600),
                static_cast<int>(rest / 60 % 60), static_cast<int>(rest % 60));
  return formatDate(d) + buf;
}

std::optional<EpochDay> parseDate(std::string_view text) {
  if (text.size() != 10) return std::nullopt;
  return dateAt(text);
}

std::optional<UnixSeconds> parseUtc(std::string_view text) {
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z')
    return std::nullopt;
  auto d = dateAt(text);
  auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (!d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  return static_cast<UnixSeconds>(*d) * 86400 + *h * 3600 + *mi * 60 + *s;
}

}  // namespace kb
