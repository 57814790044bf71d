#include "card/card_image.h"

#include <array>

#include "card/credential.h"
#include "card/ndef.h"

namespace kb::card {
namespace {

// NTAG213/215/216 data sheet (NXP, rev. 3.2), memory organisation.
constexpr std::array<ChipLayout, 3> kLayouts{{
    {reader::Chip::Ntag213, "ntag213", 45, 36, 0x12},
    {reader::Chip::Ntag215, "ntag215", 135, 126, 0x3E},
    {reader::Chip::Ntag216, "ntag216", 231, 222, 0x6D},
}};

constexpr std::uint8_t kInternal = 0x48;  // page 2 byte 1 on NTAG21x

void putPage(std::string& image, int page, std::array<std::uint8_t, 4> bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    image[static_cast<std::size_t>(page) * kPageSize + i] = static_cast<char>(bytes[i]);
}

}  // namespace

const ChipLayout* chipLayout(reader::Chip chip) {
  for (const auto& layout : kLayouts)
    if (layout.chip == chip) return &layout;
  return nullptr;
}

std::optional<reader::Chip> chipFromName(std::string_view name) {
  for (const auto& layout : kLayouts)
    if (layout.name == name) return layout.chip;
  return std::nullopt;
}

std::string credentialArea(const Credential& credential) {
  ndef::Record record{
      ndef::Tnf::External, std::string(kRecordType), {}, encodeCredential(credential)};
  return ndef::encodeTlv(ndef::encodeMessage({record}));
}

Result<std::string> formatCardImage(reader::Chip chip, std::string_view uid,
                                    std::string_view user_area) {
  const ChipLayout* layout = chipLayout(chip);
  if (!layout) return fail(Errc::Malformed, "unknown chip type");
  if (uid.size() != 7) return fail(Errc::Malformed, "NTAG21x UIDs are 7 bytes");
  const auto user_bytes = static_cast<std::size_t>(layout->user_pages) * kPageSize;
  if (user_area.size() > user_bytes)
    return fail(Errc::TooLarge, "data needs " + std::to_string(user_area.size()) + " bytes, " +
                                    std::string(layout->name) + " holds " +
                                    std::to_string(user_bytes));
  std::string image(static_cast<std::size_t>(layout->pages) * kPageSize, '\0');
  auto u = [&](std::size_t i) { return static_cast<std::uint8_t>(uid[i]); };
  // ISO/IEC 14443-3 cascade: BCC0 includes the cascade tag 0x88.
  const auto bcc0 = static_cast<std::uint8_t>(0x88 ^ u(0) ^ u(1) ^ u(2));
  const auto bcc1 = static_cast<std::uint8_t>(u(3) ^ u(4) ^ u(5) ^ u(6));
  putPage(image, 0, {u(0), u(1), u(2), bcc0});
  putPage(image, 1, {u(3), u(4), u(5), u(6)});
  putPage(image, 2, {bcc1, kInternal, 0x00, 0x00});  // static lock bytes open
  putPage(image, kCcPage, {0xE1, 0x10, layout->cc_size, 0x00});
  image.replace(static_cast<std::size_t>(kUserFirstPage) * kPageSize, user_area.size(), user_area);
  // Configuration pages as delivered: dynamic lock bytes open (RFUI byte 0xBD),
  // CFG0 MIRROR=0x04 AUTH0=0xFF (no password protection), CFG1 ACCESS=0x00 with
  // RFUI 0x05. PWD and PACK cannot be read back; they read as zeros, which is also
  // what nfc-mfultralight stores in a dump, so they are zeros here.
  const int config = kUserFirstPage + layout->user_pages;
  putPage(image, config, {0x00, 0x00, 0x00, 0xBD});
  putPage(image, config + 1, {0x04, 0x00, 0x00, 0xFF});
  putPage(image, config + 2, {0x00, 0x05, 0x00, 0x00});
  return image;
}

Result<std::string> encodeCardImage(reader::Chip chip, std::string_view uid,
                                    const Credential& credential) {
  return formatCardImage(chip, uid, credentialArea(credential));
}

Result<std::string> blankCardImage(reader::Chip chip, std::string_view uid) {
  return formatCardImage(chip, uid, ndef::encodeTlv({}));
}

}  // namespace kb::card
