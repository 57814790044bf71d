#pragma once
/// CardRecord <-> the canonical JSON stored in bundles and in the cache.
/// Exactly one byte string encodes a record, so digests over it are stable.

#include <string>
#include <string_view>

#include "common/error.h"
#include "roster/record.h"

namespace kb::cache {

std::string_view profileName(roster::Profile profile);  ///< "kiosk" / "staff"
Result<roster::Profile> parseProfile(std::string_view name);

/// Canonical JSON of `record`; empty optional fields are omitted.
std::string encodeRecord(const roster::CardRecord& record);

/// Parses and checks a record: known keys only, required fields present and
/// well-formed, no staff-only field in the kiosk profile, and `json` must be
/// exactly the canonical encoding. MALFORMED otherwise.
Result<roster::CardRecord> decodeRecord(std::string_view json, roster::Profile profile);

/// `{"card_no":"…","deleted":true}`: a delta entry removing a card.
std::string encodeDeletion(std::string_view card_no);

/// True for `[0-9A-Z-]{6,24}` (docs/contracts.md §1).
bool validCardNo(std::string_view card_no);

/// The card_no of a stored record, found without a JSON parse (lookup hot path).
/// Canonical JSON escapes every quote inside values, so the first `"card_no":"`
/// is the top-level key. Empty if absent.
std::string_view peekCardNo(std::string_view json);

}  // namespace kb::cache
