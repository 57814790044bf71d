#include "card/ndef.h"

namespace kb::card::ndef {
namespace {

constexpr std::uint8_t kTlvNull = 0x00;
constexpr std::uint8_t kTlvNdef = 0x03;
constexpr std::uint8_t kTlvTerminator = 0xFE;

constexpr std::uint8_t kFlagMb = 0x80;
constexpr std::uint8_t kFlagMe = 0x40;
constexpr std::uint8_t kFlagCf = 0x20;
constexpr std::uint8_t kFlagSr = 0x10;
constexpr std::uint8_t kFlagIl = 0x08;
constexpr std::uint8_t kTnfMask = 0x07;

// A Type 2 Tag holds at most a few kB; a message with more records than this is
// not one we wrote and only costs time to walk.
constexpr std::size_t kMaxRecords = 64;

std::uint8_t byteAt(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

TlvScan needMore(std::size_t needed) {
  TlvScan scan;
  scan.kind = TlvScan::Kind::NeedMore;
  scan.needed = needed;
  return scan;
}

}  // namespace

Result<TlvScan> scanTlvs(std::string_view area, std::size_t area_size) {
  if (area.size() > area_size) area = area.substr(0, area_size);
  std::size_t pos = 0;
  while (pos < area_size) {
    if (pos >= area.size()) return needMore(pos + 1);
    const std::uint8_t tag = byteAt(area, pos);
    if (tag == kTlvNull) {
      ++pos;
      continue;
    }
    if (tag == kTlvTerminator) {
      TlvScan scan;
      scan.needed = pos + 1;
      return scan;
    }
    // Every other TLV has a length: one byte, or 0xFF followed by two bytes big-endian.
    auto header_short = [&](std::size_t needed) -> Result<TlvScan> {
      if (needed > area_size) return fail(Errc::Malformed, "TLV header runs past the data area");
      return needMore(needed);
    };
    if (pos + 1 >= area.size()) return header_short(pos + 2);
    std::size_t length = byteAt(area, pos + 1);
    std::size_t header = 2;
    if (length == 0xFF) {
      if (pos + 3 >= area.size()) return header_short(pos + 4);
      length = (std::size_t{byteAt(area, pos + 2)} << 8) | byteAt(area, pos + 3);
      header = 4;
      // The 3-byte form exists for lengths 0xFF..0xFFFE only.
      if (length < 0xFF || length == 0xFFFF)
        return fail(Errc::Malformed,
                    "TLV 3-byte length " + std::to_string(length) + " out of range");
    }
    const std::size_t value_offset = pos + header;
    if (value_offset > area_size || length > area_size - value_offset)
      return fail(Errc::Malformed,
                  "TLV at offset " + std::to_string(pos) + " runs past the data area");
    if (tag == kTlvNdef) {
      TlvScan scan;
      scan.kind =
          value_offset + length <= area.size() ? TlvScan::Kind::Found : TlvScan::Kind::NeedMore;
      scan.value_offset = value_offset;
      scan.value_length = length;
      scan.needed = value_offset + length;
      return scan;
    }
    // Lock control, memory control, proprietary and unknown TLVs: skip the value.
    pos = value_offset + length;
  }
  TlvScan scan;
  scan.needed = area_size;
  return scan;
}

Result<std::vector<Record>> parseMessage(std::string_view message) {
  std::vector<Record> records;
  std::size_t pos = 0;
  bool ended = false;
  while (pos < message.size()) {
    if (ended) return fail(Errc::Malformed, "bytes after the record marked ME");
    if (records.size() == kMaxRecords) return fail(Errc::TooLarge, "more than 64 NDEF records");
    const std::uint8_t flags = byteAt(message, pos);
    const bool first = records.empty();
    if (((flags & kFlagMb) != 0) != first) return fail(Errc::Malformed, "MB flag out of place");
    if ((flags & kFlagCf) != 0)
      return fail(Errc::Malformed, "chunked NDEF records are not supported");
    const auto tnf_value = static_cast<std::uint8_t>(flags & kTnfMask);
    if (tnf_value == 7) return fail(Errc::Malformed, "reserved TNF 7");
    ended = (flags & kFlagMe) != 0;
    ++pos;

    auto need = [&](std::size_t n) { return n <= message.size() - pos; };
    if (!need(1)) return fail(Errc::Truncated, "NDEF record header cut short");
    const std::size_t type_length = byteAt(message, pos++);
    std::size_t payload_length = 0;
    if ((flags & kFlagSr) != 0) {
      if (!need(1)) return fail(Errc::Truncated, "NDEF record header cut short");
      payload_length = byteAt(message, pos++);
    } else {
      if (!need(4)) return fail(Errc::Truncated, "NDEF record header cut short");
      for (int i = 0; i < 4; ++i) payload_length = (payload_length << 8) | byteAt(message, pos++);
    }
    std::size_t id_length = 0;
    if ((flags & kFlagIl) != 0) {
      if (!need(1)) return fail(Errc::Truncated, "NDEF record header cut short");
      id_length = byteAt(message, pos++);
    }
    // Checked one by one so that no sum can overflow.
    if (!need(type_length)) return fail(Errc::Truncated, "NDEF record type runs past the message");
    Record record;
    record.tnf = static_cast<Tnf>(tnf_value);
    record.type = std::string(message.substr(pos, type_length));
    pos += type_length;
    if (!need(id_length)) return fail(Errc::Truncated, "NDEF record id runs past the message");
    record.id = std::string(message.substr(pos, id_length));
    pos += id_length;
    if (!need(payload_length))
      return fail(Errc::Truncated, "NDEF record payload runs past the message");
    record.payload = std::string(message.substr(pos, payload_length));
    pos += payload_length;

    if (record.tnf == Tnf::Empty && (type_length | id_length | payload_length) != 0)
      return fail(Errc::Malformed, "empty record (TNF 0) with content");
    if ((record.tnf == Tnf::Unknown || record.tnf == Tnf::Unchanged) && type_length != 0)
      return fail(Errc::Malformed, "TNF 5/6 record with a type");
    if (record.tnf != Tnf::Empty && record.tnf != Tnf::Unknown && record.tnf != Tnf::Unchanged &&
        type_length == 0)
      return fail(Errc::Malformed, "record without a type");
    records.push_back(std::move(record));
  }
  if (!records.empty() && !ended)
    return fail(Errc::Truncated, "NDEF message ends without an ME record");
  return records;
}

std::string encodeMessage(const std::vector<Record>& records) {
  std::string out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    std::uint8_t flags = static_cast<std::uint8_t>(r.tnf);
    if (i == 0) flags |= kFlagMb;
    if (i + 1 == records.size()) flags |= kFlagMe;
    const bool short_record = r.payload.size() < 256;
    if (short_record) flags |= kFlagSr;
    if (!r.id.empty()) flags |= kFlagIl;
    out.push_back(static_cast<char>(flags));
    out.push_back(static_cast<char>(r.type.size()));
    if (short_record) {
      out.push_back(static_cast<char>(r.payload.size()));
    } else {
      const auto n = static_cast<std::uint32_t>(r.payload.size());
      for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    if (!r.id.empty()) out.push_back(static_cast<char>(r.id.size()));
    out += r.type;
    out += r.id;
    out += r.payload;
  }
  return out;
}

std::string encodeTlv(std::string_view message) {
  std::string out;
  out.push_back(static_cast<char>(kTlvNdef));
  if (message.size() < 0xFF) {
    out.push_back(static_cast<char>(message.size()));
  } else {
    out.push_back(static_cast<char>(0xFF));
    out.push_back(static_cast<char>((message.size() >> 8) & 0xFF));
    out.push_back(static_cast<char>(message.size() & 0xFF));
  }
  out += message;
  out.push_back(static_cast<char>(kTlvTerminator));
  return out;
}

}  // namespace kb::card::ndef
