#pragma once
/// UTC timestamps and calendar dates as they appear in signed documents.
/// Times are whole seconds since the Unix epoch; dates are days since the epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kb {

using UnixSeconds = std::int64_t;
using EpochDay = std::int32_t;

UnixSeconds nowSeconds();
std::string formatUtc(UnixSeconds t);                        ///< "2026-11-21T04:52:00Z"
std::optional<UnixSeconds> parseUtc(std::string_view text);  ///< exactly that form
std::string formatDate(EpochDay d);                          ///< "2026-11-21"
std::optional<EpochDay> parseDate(std::string_view text);    ///< exactly "YYYY-MM-DD", a real date
EpochDay dayOf(UnixSeconds t);

}  // namespace kb
