#pragma once
/// NFC Forum Type 2 Tag data area (TLV blocks) and NDEF messages, parsed from
/// untrusted bytes read off a card. Nothing here trusts a length field: every
/// length is checked against the bytes actually present before it is used.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace kb::card::ndef {

/// Type Name Format values (NFC Forum NDEF 1.0, 3.2.6).
enum class Tnf : std::uint8_t {
  Empty = 0,
  WellKnown = 1,
  Media = 2,
  Uri = 3,
  External = 4,
  Unknown = 5,
  Unchanged = 6
};

struct Record {
  Tnf tnf = Tnf::Empty;
  std::string type;
  std::string id;
  std::string payload;
};

/// Where the first NDEF TLV sits in a Type 2 Tag data area (user memory from page 4).
struct TlvScan {
  enum class Kind {
    Found,     ///< NDEF TLV at [value_offset, value_offset + value_length)
    NoNdef,    ///< a terminator TLV or the end of the area came first
    NeedMore,  ///< the bytes given end inside a TLV header or value: read up to `needed`
  };
  Kind kind = Kind::NoNdef;
  std::size_t value_offset = 0;
  std::size_t value_length = 0;
  std::size_t needed = 0;  ///< bytes of the area needed to hold what was found (or to go on)
};

/// Walks the TLV blocks of `area` (NULL 0x00, lock control 0x01, memory control 0x02,
/// NDEF 0x03, proprietary 0xFD, terminator 0xFE; 1- and 3-byte lengths).
/// `area_size` is the full data area size from the capability container, so a
/// TLV that claims more than the card holds is MALFORMED rather than NeedMore.
Result<TlvScan> scanTlvs(std::string_view area, std::size_t area_size);

/// Parses an NDEF message into records. MALFORMED on a bad header sequence
/// (MB/ME), chunked records (not used by any card we issue), reserved TNF,
/// lengths past the end, or trailing bytes; TOO_LARGE past 64 records.
Result<std::vector<Record>> parseMessage(std::string_view message);

/// Encodes records as one message (MB on the first, ME on the last, short
/// records where the payload allows).
std::string encodeMessage(const std::vector<Record>& records);

/// Wraps a message in an NDEF TLV followed by a terminator TLV.
std::string encodeTlv(std::string_view message);

}  // namespace kb::card::ndef
