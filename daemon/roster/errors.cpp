#include "roster/errors.h"

namespace kb {

namespace {

std::string_view nameOf(RosterErrc code) noexcept {
  switch (code) {
    case RosterErrc::BadRoster:
      return "BAD_ROSTER";
  }
  return {};
}

constinit const EnumCategory<RosterErrc, nameOf> kCategory("kb.roster");

}  // namespace

std::error_code make_error_code(RosterErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb
