// Fuzzes what a hostile card can put in user memory: the TLV walk over the data
// area and the NDEF record parser, as checkCard runs them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "card/ndef.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte picks the declared data area size (CC byte 2 × 8), as a CC would.
  const std::size_t area_size = std::size_t{data[0]} * 8;
  std::string_view area(reinterpret_cast<const char*>(data + 1), size - 1);

  auto scan = kb::card::ndef::scanTlvs(area, area_size);
  if (scan && scan->kind == kb::card::ndef::TlvScan::Kind::Found) {
    if (scan->value_offset + scan->value_length > area.size()) __builtin_trap();
    auto records =
        kb::card::ndef::parseMessage(area.substr(scan->value_offset, scan->value_length));
    if (records) {
      // Whatever parses must re-encode to a message that parses to the same records.
      auto again = kb::card::ndef::parseMessage(kb::card::ndef::encodeMessage(*records));
      if (!again || again->size() != records->size()) __builtin_trap();
      for (std::size_t i = 0; i < records->size(); ++i)
        if ((*again)[i].payload != (*records)[i].payload ||
            (*again)[i].type != (*records)[i].type || (*again)[i].id != (*records)[i].id ||
            (*again)[i].tnf != (*records)[i].tnf)
          __builtin_trap();
    }
  }
  // The raw input as a message too, so record parsing is reached without a TLV.
  (void)kb::card::ndef::parseMessage(area);
  return 0;
}
