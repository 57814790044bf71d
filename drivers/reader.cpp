#include "reader.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.reader"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<ReaderErrc>(value)) {
      case ReaderErrc::NoCard:
        return "NO_CARD";
      case ReaderErrc::ReadError:
        return "READ_ERROR";
      case ReaderErrc::ReaderLost:
        return "READER_LOST";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& readerCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(ReaderErrc code) noexcept {
  return {static_cast<int>(code), readerCategory()};
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
