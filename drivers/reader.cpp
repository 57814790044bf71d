#include "reader.h"

namespace kb {

namespace {

std::string_view nameOf(ReaderErrc code) noexcept {
  switch (code) {
    case ReaderErrc::NoCard:
      return "NO_CARD";
    case ReaderErrc::ReadError:
      return "READ_ERROR";
    case ReaderErrc::ReaderLost:
      return "READER_LOST";
  }
  return {};
}

constinit const EnumCategory<ReaderErrc, nameOf> kCategory("kb.reader");

}  // namespace

std::error_code make_error_code(ReaderErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb

namespace kb::reader {

std::string_view chipName(Chip chip) {
  switch (chip) {
    case Chip::Ntag213:
      return "ntag213";
    case Chip::Ntag215:
      return "ntag215";
    case Chip::Ntag216:
      return "ntag216";
    case Chip::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace kb::reader
