#include "card/card_check.h"

#include <algorithm>
#include <cctype>

#include "card/card_image.h"
#include "card/credential.h"
#include "card/ndef.h"
#include "common/encoding.h"
#include "reader.h"
#include "trust/trust.h"

namespace kb::card {
namespace {

constexpr std::uint8_t kCcMagic = 0xE1;
constexpr int kReadChunkPages = 4;  // one READ command returns 4 pages anyway

CardVerdict verdict(CardCheck check, std::string reason, std::string card_no = {}) {
  return CardVerdict{check, std::move(card_no), std::move(reason)};
}

// NFC Forum external type names compare case-insensitively.
bool sameType(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The data area the CC declares, but never more than the chip really has: a
// hostile CC must not make us read (or wait for) pages that do not exist.
std::size_t dataAreaSize(const ChipLayout& layout, std::string_view cc) {
  const std::size_t declared = std::size_t{static_cast<std::uint8_t>(cc[2])} * 8;
  return std::min(declared, static_cast<std::size_t>(layout.user_pages) * kPageSize);
}

bool isCardFailure(const Error& e) {
  return e.code != ReaderErrc::ReaderLost;
}

}  // namespace

std::string_view cardCheckName(CardCheck check) {
  switch (check) {
    case CardCheck::Genuine:
      return "GENUINE";
    case CardCheck::Cloned:
      return "CLONED";
    case CardCheck::Forged:
      return "FORGED";
    case CardCheck::UnknownFormat:
      return "UNKNOWN_FORMAT";
    case CardCheck::ReadError:
      return "READ_ERROR";
  }
  return "READ_ERROR";
}

bool isNtag21x(const reader::CardPresence& presence) {
  if (!chipLayout(presence.chip) || presence.uid.size() != kUidSize) return false;
  // NTAG21x answer ATQA 00 44, SAK 00. SAK 0x08/0x18 is MIFARE Classic, 0x20 an
  // ISO 14443-4 card (bank cards, DESFire): whatever GET_VERSION claimed, not ours.
  if (presence.atqa_sak.size() == 3 && presence.atqa_sak[2] != '\0') return false;
  return true;
}

CardVerdict checkCard(const trust::TrustRoot& root, const reader::CardPresence& presence,
                      std::string_view cc, std::string_view user) {
  if (!isNtag21x(presence)) {
    std::string why = "not an NTAG21x";
    if (presence.atqa_sak.size() == 3)
      why += " (SAK " + hexEncode(presence.atqa_sak.substr(2)) + ")";
    return verdict(CardCheck::UnknownFormat, why);
  }
  if (cc.size() < 4) return verdict(CardCheck::ReadError, "capability container not read");
  if (static_cast<std::uint8_t>(cc[0]) != kCcMagic)
    return verdict(CardCheck::UnknownFormat, "no NDEF capability container (blank tag)");
  if ((static_cast<std::uint8_t>(cc[1]) >> 4) != 1)
    return verdict(CardCheck::UnknownFormat, "unsupported NDEF mapping version");
  const std::size_t area_size = dataAreaSize(*chipLayout(presence.chip), cc);

  auto scan = ndef::scanTlvs(user, area_size);
  if (!scan) return verdict(CardCheck::UnknownFormat, "bad TLV data: " + scan.error().message);
  if (scan->kind == ndef::TlvScan::Kind::NeedMore)
    return verdict(CardCheck::ReadError, "user memory read only in part");
  if (scan->kind == ndef::TlvScan::Kind::NoNdef)
    return verdict(CardCheck::UnknownFormat, "no NDEF message");

  auto records = ndef::parseMessage(user.substr(scan->value_offset, scan->value_length));
  if (!records)
    return verdict(CardCheck::UnknownFormat, "bad NDEF message: " + records.error().message);
  if (records->empty()) return verdict(CardCheck::UnknownFormat, "empty NDEF message (blank tag)");
  auto ours = std::find_if(records->begin(), records->end(), [](const ndef::Record& r) {
    return r.tnf == ndef::Tnf::External && sameType(r.type, kRecordType);
  });
  if (ours == records->end())
    return verdict(CardCheck::UnknownFormat, "NDEF holds no Kartu Bahagia record");
  // A record of our type that we cannot read claims to be a Kartu Bahagia and is
  // not one: FORGED. A newer version we do not know is only not understood.
  if (ours->payload.empty() || static_cast<std::uint8_t>(ours->payload[0]) != kCredentialVersion)
    return verdict(CardCheck::UnknownFormat, "credential version not supported");
  auto credential = decodeCredential(ours->payload);
  if (!credential)
    return verdict(CardCheck::Forged, "credential malformed: " + credential.error().message);

  switch (verifyCredential(root, presence.uid, *credential)) {
    case CredentialCheck::Genuine:
      return verdict(CardCheck::Genuine, "credential valid and bound to this chip",
                     credential->card_no);
    case CredentialCheck::Cloned:
      return verdict(CardCheck::Cloned, "valid credential of another chip (copied card)",
                     credential->card_no);
    case CredentialCheck::Forged:
      break;
  }
  return verdict(CardCheck::Forged,
                 "signature invalid or issuer key not a card key of the trust root");
}

Result<TapResult> identifyCard(reader::Reader& reader, const reader::CardPresence& presence,
                               const trust::TrustRoot& root,
                               const std::vector<OriginalityKey>& originality_keys) {
  TapResult tap;
  tap.presence = presence;
  if (!isNtag21x(presence)) {
    tap.verdict = checkCard(root, presence, {}, {});
    return tap;
  }
  const ChipLayout& layout = *chipLayout(presence.chip);

  auto read_error = [&](const Error& e) -> Result<TapResult> {
    if (!isCardFailure(e)) return std::unexpected(e);
    tap.verdict = verdict(CardCheck::ReadError, "card read failed: " + e.message);
    return tap;
  };
  auto read = [&](int first, int count) -> Result<std::string> {
    auto data = reader.readPages(first, count);
    if (!data) return data;
    if (data->size() != static_cast<std::size_t>(count) * kPageSize)
      return fail(ReaderErrc::ReadError,
                  "reader returned " + std::to_string(data->size()) + " bytes");
    tap.pages_read += count;
    return data;
  };

  // CC and the first user pages in one READ: enough for the TLV header in every
  // card we issue, so a Kartu Bahagia card needs one more read (two with READ only).
  auto head = read(kCcPage, kReadChunkPages);
  if (!head) return read_error(head.error());
  const std::string cc = head->substr(0, kPageSize);
  std::string user = head->substr(kPageSize);

  if (static_cast<std::uint8_t>(cc[0]) == kCcMagic) {
    const std::size_t area_size = dataAreaSize(layout, cc);
    const int area_pages = static_cast<int>((area_size + kPageSize - 1) / kPageSize);
    for (;;) {
      auto scan = ndef::scanTlvs(user, area_size);
      if (!scan || scan->kind != ndef::TlvScan::Kind::NeedMore) break;
      const int have = static_cast<int>(user.size()) / kPageSize;
      const int need = static_cast<int>((scan->needed + kPageSize - 1) / kPageSize);
      const int count = std::min(std::max(need - have, kReadChunkPages), area_pages - have);
      if (count <= 0) break;
      auto more = read(kUserFirstPage + have, count);
      if (!more) return read_error(more.error());
      user += *more;
    }
  }
  tap.verdict = checkCard(root, presence, cc, user);

  auto signature = reader.readSignature();
  if (!signature) {
    if (!isCardFailure(signature.error())) return std::unexpected(signature.error());
    // The credential was read whole; a card lifted during READ_SIG only loses this signal.
    tap.originality = Originality::NotSupported;
    return tap;
  }
  tap.originality = checkOriginality(originality_keys, presence.uid, *signature);
  return tap;
}

nlohmann::json tapJson(const TapResult& tap) {
  const ChipLayout* layout = chipLayout(tap.presence.chip);
  nlohmann::json out;
  out["card_no"] =
      tap.verdict.card_no.empty() ? nlohmann::json(nullptr) : nlohmann::json(tap.verdict.card_no);
  out["uid"] = hexEncode(tap.presence.uid);
  out["chip"] = layout ? std::string(layout->name) : std::string("unknown");
  out["card_check"] = std::string(cardCheckName(tap.verdict.check));
  out["originality"] = std::string(originalityName(tap.originality));
  out["reason"] = tap.verdict.reason;
  return out;
}

}  // namespace kb::card
