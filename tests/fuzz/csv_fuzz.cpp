// libFuzzer target: the roster CSV reader and parser over arbitrary bytes, in
// both data profiles and in --report mode. Any input must end in a roster or
// in issues, never in a crash, a hang or unbounded memory.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "roster/csv_reader.h"
#include "roster/roster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view csv(reinterpret_cast<const char*>(data), size);

  // The reader alone, until the end, skipping past errors as --report does.
  // Every call consumes input, so more calls than bytes means it stopped moving.
  kb::roster::CsvReader reader(csv);
  for (std::size_t n = 0;; ++n) {
    if (n > size + 1) __builtin_trap();
    auto rec = reader.next();
    if (rec && !*rec) break;
  }

  kb::roster::RosterOptions kiosk;
  kiosk.max_issues = 1;
  (void)kb::roster::parseRoster(csv, "fuzz.csv", kiosk);

  kb::roster::RosterOptions staff;
  staff.profile = kb::roster::Profile::Staff;
  staff.nik_key = "fuzz-nik-key-0123456789";
  staff.max_issues = static_cast<std::size_t>(-1);
  auto r = kb::roster::parseRoster(csv, "fuzz.csv", staff);
  if (r) {
    for (const auto& card : r->cards) (void)kb::roster::maskName(card.holder);
  } else {
    for (const auto& issue : r.error()) (void)issue.format();
  }
  return 0;
}
