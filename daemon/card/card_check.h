#pragma once
/// From what a reader saw to a verdict: which Kartu Bahagia card this is and
/// whether it is genuine (docs/contracts.md §3: card_check and originality).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "card/originality.h"
#include "common/error.h"
#include "reader.h"

namespace kb::trust {
class TrustRoot;
}

namespace kb::card {

enum class CardCheck { Genuine, Cloned, Forged, UnknownFormat, ReadError };
std::string_view cardCheckName(CardCheck check);  ///< "GENUINE", ..., "READ_ERROR"

struct CardVerdict {
  CardCheck check = CardCheck::UnknownFormat;
  std::string card_no;  ///< from a correctly signed credential: GENUINE and CLONED only
  std::string reason;   ///< why, for diagnostics; never holds personal data
};

/// True for an NTAG21x by ATQA/SAK and chip type; MIFARE Classic (SAK 0x08/0x18),
/// bank cards (SAK 0x20) and unknown chips are not.
bool isNtag21x(const reader::CardPresence& presence);

/// Pure check of data already read: `cc` is page 3 (4 bytes), `user` the user memory
/// from page 4 as far as it was read.
CardVerdict checkCard(const trust::TrustRoot& root, const reader::CardPresence& presence,
                      std::string_view cc, std::string_view user);

struct TapResult {
  reader::CardPresence presence;
  CardVerdict verdict;
  Originality originality = Originality::NotSupported;
  int pages_read = 0;  ///< pages fetched from the card (CC and user memory)
};

/// Reads what the credential needs from a card in the field (the CC and the NDEF
/// TLV, never a full dump), then READ_SIG, and checks both. A card that leaves
/// mid-read gives READ_ERROR. Errors are only for the reader itself (READER_LOST).
Result<TapResult> identifyCard(reader::Reader& reader, const reader::CardPresence& presence,
                               const trust::TrustRoot& root,
                               const std::vector<OriginalityKey>& originality_keys);

/// {card_no, uid, chip, card_check, originality}: `kbctl card read --json`.
nlohmann::json tapJson(const TapResult& tap);

}  // namespace kb::card
