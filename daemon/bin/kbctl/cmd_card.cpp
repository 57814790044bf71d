// kbctl card encode | read | write: personalise and check Kartu Bahagia cards.

#include <chrono>
#include <iostream>

#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "bin/kbctl/keys.h"
#include "card/card_check.h"
#include "card/card_image.h"
#include "card/credential.h"
#include "card/errors.h"
#include "card/ndef.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "common/files.h"
#include "common/time.h"
#include "libnfc/libnfc_reader.h"
#include "reader.h"
#include "trust/trust.h"

namespace kb::cli {
namespace {

const char* const kEncodeUsage =
    "usage: kbctl card encode --card-no N --uid HEX --key C.key --chip ntag213|ntag215|ntag216\n"
    "                         --out FILE.mfd [--issued YYYY-MM-DD]\n\n"
    "Signs a credential binding card number N to the chip UID (14 hex digits) with the\n"
    "card key C.key and writes the whole-memory image of a personalised card in the raw\n"
    ".mfd layout of libnfc's nfc-mfultralight (mode 0644). --issued defaults to today (UTC).\n"
    "Prints the path written.\n";

const char* const kReadUsage =
    "usage: kbctl card read --device CONNSTRING --root root.json [--wait SECONDS] [--json]\n"
    "                       [--originality-key PUB.pem ...]\n\n"
    "Waits for a card on the reader (default 10 s, then error NO_CARD), reads the NDEF\n"
    "credential and the NXP originality signature, and prints the verdict: card_check\n"
    "GENUINE, CLONED, FORGED, UNKNOWN_FORMAT or READ_ERROR; originality VALID, INVALID or\n"
    "NOT_SUPPORTED. Originality is checked against NXP's NTAG21x key and any extra\n"
    "secp128r1 key given (test readers and emulators). --json prints\n"
    "{card_no, uid, chip, card_check, originality, reason}. CONNSTRING is a libnfc\n"
    "connstring (pn532_uart:/dev/ttyUSB0, acr122_usb:001:003) or 'auto' for the first device.\n";

const char* const kWriteUsage =
    "usage: kbctl card write --device CONNSTRING --card-no N --key C.key [--chip "
    "auto|ntag213|ntag215|ntag216]\n"
    "                        [--wait SECONDS] [--issued YYYY-MM-DD]\n\n"
    "Waits for a blank NTAG21x (no NDEF message, or an empty one), writes a credential for\n"
    "card number N bound to that chip's UID, signed with C.key, reads it back and checks\n"
    "it. A card that already holds data or has locked pages is refused (CARD_NOT_BLANK),\n"
    "as is one that is not an NTAG21x or not the --chip asked for (WRONG_CHIP); a card\n"
    "that does not read back what was written is VERIFY_FAILED. The TLV's first page is\n"
    "written last, so a card lifted mid-write still reads as blank.\n";

Result<EpochDay> issuedDay(const Args& args) {
  auto text = args.get("issued");
  if (!text) return dayOf(nowSeconds());
  auto day = parseDate(*text);
  if (!day) return fail(Errc::Usage, "--issued takes a date YYYY-MM-DD, not '" + *text + "'");
  return *day;
}

Result<std::chrono::milliseconds> waitTime(const Args& args) {
  auto seconds = args.integer("wait", 10);
  if (!seconds) return std::unexpected(seconds.error());
  if (*seconds < 0 || *seconds > 3600) return fail(Errc::Usage, "--wait takes 0..3600 seconds");
  return std::chrono::milliseconds(*seconds * 1000);
}

// The one place that picks the driver, so tests and the kiosk share the libnfc path.
Result<std::unique_ptr<reader::Reader>> openReader(const std::string& connstring) {
  reader::LibnfcOptions options;
  options.connstring = connstring == "auto" ? "" : connstring;
  std::unique_ptr<reader::Reader> r = std::make_unique<reader::LibnfcReader>(std::move(options));
  if (auto opened = r->open(); !opened) return std::unexpected(opened.error());
  return r;
}

// Closes the reader on every path out of a command.
struct ReaderCloser {
  reader::Reader& r;
  ~ReaderCloser() { r.close(); }
};

// The reader reports "no card" as a value; for a command that needs a card it is the
// CLI's NO_CARD error (docs/contracts.md §2).
Result<reader::CardPresence> waitForCard(reader::Reader& r, std::chrono::milliseconds wait) {
  auto card = r.waitForCard(wait);
  if (!card) return std::unexpected(card.error());
  if (!*card)
    return fail(ReaderErrc::NoCard,
                "no card on the reader within " + std::to_string(wait.count() / 1000) + " s");
  return **card;
}

std::string textReport(const card::TapResult& tap) {
  const nlohmann::json j = card::tapJson(tap);
  std::string out;
  for (const char* field : {"card_check", "card_no", "uid", "chip", "originality", "reason"}) {
    const auto& v = j[field];
    out +=
        std::string(field) + ": " + (v.is_null() ? std::string("-") : v.get<std::string>()) + "\n";
  }
  return out;
}

Result<int> cardEncode(const Words& words) {
  auto args = Args::parse(words, {"card-no", "uid", "key", "chip", "out", "issued"}, {});
  if (!args) return std::unexpected(args.error());
  auto card_no = args->required("card-no");
  auto uid_hex = args->required("uid");
  auto key_path = args->required("key");
  auto chip_name = args->required("chip");
  auto out = args->required("out");
  for (const auto* r : {&card_no, &uid_hex, &key_path, &chip_name, &out})
    if (!*r) return std::unexpected(r->error());
  auto chip = card::chipFromName(*chip_name);
  if (!chip) return fail(Errc::Usage, "--chip must be ntag213, ntag215 or ntag216");
  auto uid = hexDecode(*uid_hex);
  if (!uid || uid->size() != card::kUidSize)
    return fail(Errc::Usage, "--uid must be 14 hex digits (7-byte NTAG UID)");
  if (!card::validCardNo(*card_no))
    return fail(Errc::Usage, "--card-no must match [0-9A-Z-]{6,24}");
  auto issued = issuedDay(*args);
  if (!issued) return std::unexpected(issued.error());
  auto key = loadSigningKey(*key_path);
  if (!key) return std::unexpected(key.error());

  auto credential = card::issueCredential(*key, *card_no, *uid, *issued);
  if (!credential) return std::unexpected(credential.error());
  auto image = card::encodeCardImage(*chip, *uid, *credential);
  if (!image) return std::unexpected(image.error());
  if (auto written = writeFileAtomic(*out, *image, 0644); !written)
    return std::unexpected(written.error());
  std::cout << *out << '\n';
  return 0;
}

Result<int> cardRead(const Words& words) {
  auto args = Args::parse(words, {"device", "root", "wait", "originality-key"}, {"json"});
  if (!args) return std::unexpected(args.error());
  auto device = args->required("device");
  if (!device) return std::unexpected(device.error());
  auto root_path = args->required("root");
  if (!root_path) return std::unexpected(root_path.error());
  auto wait = waitTime(*args);
  if (!wait) return std::unexpected(wait.error());
  auto root = trust::TrustRoot::load(*root_path, nowSeconds());
  if (!root) return std::unexpected(root.error());

  std::vector<card::OriginalityKey> keys;
  auto nxp = card::OriginalityKey::nxpNtag21x();
  if (!nxp) return std::unexpected(nxp.error());
  keys.push_back(*nxp);
  for (const auto& path : args->all("originality-key")) {
    auto pem = readFile(path, kMaxKeyBytes);
    if (!pem) return std::unexpected(pem.error());
    auto key = card::OriginalityKey::fromPem(*pem);
    if (!key) return fail(key.error().code, path + ": " + key.error().message);
    keys.push_back(*key);
  }

  auto reader = openReader(*device);
  if (!reader) return std::unexpected(reader.error());
  ReaderCloser closer{**reader};
  auto presence = waitForCard(**reader, *wait);
  if (!presence) return std::unexpected(presence.error());
  auto tap = card::identifyCard(**reader, *presence, *root, keys);
  if (!tap) return std::unexpected(tap.error());

  if (args->has("json"))
    std::cout << card::tapJson(*tap).dump() << '\n';
  else
    std::cout << textReport(*tap);
  if (tap->verdict.check == card::CardCheck::ReadError)
    return fail(ReaderErrc::ReadError, tap->verdict.reason);
  return 0;
}

Result<int> cardWrite(const Words& words) {
  auto args = Args::parse(words, {"device", "card-no", "key", "chip", "wait", "issued"}, {});
  if (!args) return std::unexpected(args.error());
  auto device = args->required("device");
  auto card_no = args->required("card-no");
  auto key_path = args->required("key");
  for (const auto* r : {&device, &card_no, &key_path})
    if (!*r) return std::unexpected(r->error());
  if (!card::validCardNo(*card_no))
    return fail(Errc::Usage, "--card-no must match [0-9A-Z-]{6,24}");
  const std::string chip_name = args->get("chip").value_or("auto");
  std::optional<reader::Chip> want_chip;
  if (chip_name != "auto") {
    want_chip = card::chipFromName(chip_name);
    if (!want_chip) return fail(Errc::Usage, "--chip must be auto, ntag213, ntag215 or ntag216");
  }
  auto wait = waitTime(*args);
  if (!wait) return std::unexpected(wait.error());
  auto issued = issuedDay(*args);
  if (!issued) return std::unexpected(issued.error());
  auto key = loadSigningKey(*key_path);
  if (!key) return std::unexpected(key.error());

  auto reader = openReader(*device);
  if (!reader) return std::unexpected(reader.error());
  reader::Reader& r = **reader;
  ReaderCloser closer{r};
  auto presence = waitForCard(r, *wait);
  if (!presence) return std::unexpected(presence.error());
  if (!card::isNtag21x(*presence))
    return fail(CardErrc::WrongChip,
                "the card is not an NTAG213/215/216 (" + hexEncode(presence->atqa_sak) + ")");
  if (want_chip && *want_chip != presence->chip)
    return fail(CardErrc::WrongChip, "the card is an " +
                                         std::string(card::chipLayout(presence->chip)->name) +
                                         ", not an " + chip_name);
  const card::ChipLayout& layout = *card::chipLayout(presence->chip);

  // Page 2 (static lock bytes), the CC and the start of user memory in one READ.
  auto head = r.readPages(2, 4);
  if (!head) return std::unexpected(head.error());
  if (head->size() != 16) return fail(ReaderErrc::ReadError, "short read from the card");
  if ((*head)[2] != '\0' || (*head)[3] != '\0')
    return fail(CardErrc::CardNotBlank, "the card has locked pages; it cannot be personalised");
  const std::string cc = head->substr(4, 4);
  const std::string want_cc{'\xE1', '\x10', static_cast<char>(layout.cc_size), '\0'};
  if (cc != want_cc && cc != std::string(4, '\0'))
    return fail(CardErrc::CardNotBlank, "the card's capability container is not that of a blank " +
                                            std::string(layout.name) + " (" + hexEncode(cc) + ")");
  if (cc == want_cc) {
    // Conservative: anything but an empty NDEF TLV or a terminator in the first
    // bytes (NeedMore included) counts as data we must not overwrite.
    auto scan = card::ndef::scanTlvs(head->substr(8),
                                     static_cast<std::size_t>(layout.user_pages) * card::kPageSize);
    const bool empty_ndef =
        scan && scan->kind == card::ndef::TlvScan::Kind::Found && scan->value_length == 0;
    const bool no_ndef = scan && scan->kind == card::ndef::TlvScan::Kind::NoNdef;
    if (!empty_ndef && !no_ndef)
      return fail(CardErrc::CardNotBlank, "the card is not blank (it holds an NDEF message)");
  }

  auto credential = card::issueCredential(*key, *card_no, presence->uid, *issued);
  if (!credential) return std::unexpected(credential.error());
  std::string area = card::credentialArea(*credential);
  area.resize((area.size() + 3) / 4 * 4, '\0');
  if (area.size() > static_cast<std::size_t>(layout.user_pages) * card::kPageSize)
    return fail(Errc::TooLarge, "the credential does not fit this chip");

  // CC is one-time programmable: written only when still zero.
  if (cc != want_cc)
    if (auto w = r.writePages(card::kCcPage, want_cc); !w) return std::unexpected(w.error());
  if (auto w = r.writePages(card::kUserFirstPage + 1, std::string_view(area).substr(4)); !w)
    return std::unexpected(w.error());
  if (auto w = r.writePages(card::kUserFirstPage, std::string_view(area).substr(0, 4)); !w)
    return std::unexpected(w.error());

  auto back = r.readPages(card::kUserFirstPage, static_cast<int>(area.size() / 4));
  if (!back) return std::unexpected(back.error());
  if (*back != area) return fail(CardErrc::VerifyFailed, "read-back differs from what was written");
  // Parse what the card now holds the way a kiosk will, and check it against the key.
  auto scan = card::ndef::scanTlvs(*back, back->size());
  if (!scan || scan->kind != card::ndef::TlvScan::Kind::Found)
    return fail(CardErrc::VerifyFailed, "no NDEF TLV read back");
  auto records = card::ndef::parseMessage(
      std::string_view(*back).substr(scan->value_offset, scan->value_length));
  if (!records || records->size() != 1)
    return fail(CardErrc::VerifyFailed, "NDEF message read back is not ours");
  auto stored = card::decodeCredential(records->front().payload);
  if (!stored || stored->uid != presence->uid ||
      !key->publicKey().verify(card::signedBytes(*stored), stored->signature))
    return fail(CardErrc::VerifyFailed, "credential read back does not verify");
  std::cout << "wrote card " << *card_no << " to " << layout.name << " " << hexEncode(presence->uid)
            << '\n';
  return 0;
}

}  // namespace

std::vector<Command> cardCommands() {
  return {
      {"card encode", "write the .mfd image of a personalised card", kEncodeUsage, cardEncode},
      {"card read", "read a card on a reader and check it", kReadUsage, cardRead},
      {"card write", "personalise a blank NTAG on a reader", kWriteUsage, cardWrite},
  };
}

}  // namespace kb::cli
