// Card credential, NDEF, card image and originality checks (daemon/card).

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "card/card_check.h"
#include "card/card_image.h"
#include "card/credential.h"
#include "card/ndef.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "common/files.h"
#include "reader.h"
#include "trust/trust.h"

namespace {

using kb::card::CardCheck;
using kb::reader::Chip;

std::string hex(std::string_view h) {
  return *kb::hexDecode(h);
}

const std::string kUid = hex("04a1b2c3d4e5f6");
const std::string kOtherUid = hex("04112233445566");
const std::string kNtagAtqaSak = hex("004400");

kb::crypto::SigningKey newKey() {
  return *kb::crypto::SigningKey::generate();
}

struct Fixture {
  kb::crypto::SigningKey root_key = newKey();
  kb::crypto::SigningKey snapshot_key = newKey();
  kb::crypto::SigningKey card_key = newKey();
  kb::trust::TrustRoot root = makeRoot();

  kb::trust::TrustRoot makeRoot() const {
    kb::trust::RootSpec spec;
    spec.expires = kb::nowSeconds() + 86400;
    spec.dev = true;
    spec.root_keys = {root_key.publicKey()};
    spec.snapshot_keys = {snapshot_key.publicKey()};
    spec.card_keys = {card_key.publicKey()};
    auto parsed =
        kb::trust::TrustRoot::parse(kb::trust::makeRoot(spec, {root_key}), kb::nowSeconds());
    if (!parsed) throw std::runtime_error(parsed.error().message);
    return *parsed;
  }
};

kb::reader::CardPresence ntag(Chip chip, std::string uid) {
  return {std::move(uid), chip, kNtagAtqaSak};
}

// Page 3 and user memory of an image, as checkCard takes them.
kb::card::CardVerdict checkImage(const kb::trust::TrustRoot& root,
                                 const kb::reader::CardPresence& presence,
                                 const std::string& image) {
  return kb::card::checkCard(root, presence, std::string_view(image).substr(12, 4),
                             std::string_view(image).substr(16));
}

std::string issuedImage(const Fixture& f, Chip chip,
                        const std::string& card_no = "KB-1571-000123") {
  auto credential = kb::card::issueCredential(f.card_key, card_no, kUid, 20'000);
  EXPECT_TRUE(credential.has_value());
  auto image = kb::card::encodeCardImage(chip, kUid, *credential);
  EXPECT_TRUE(image.has_value());
  return *image;
}

// ---------------------------------------------------------------- credential

TEST(Credential, EncodeDecodeRoundTrip) {
  Fixture f;
  auto c = kb::card::issueCredential(f.card_key, "KB-1571-000123", kUid, 20'000);
  ASSERT_TRUE(c.has_value());
  std::string bytes = kb::card::encodeCredential(*c);
  EXPECT_EQ(bytes.size(), 83u + 14u);
  auto d = kb::card::decodeCredential(bytes);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->card_no, "KB-1571-000123");
  EXPECT_EQ(d->uid, kUid);
  EXPECT_EQ(d->issued, 20'000);
  EXPECT_EQ(kb::hexEncode(d->key_prefix), f.card_key.publicKey().keyId().substr(0, 16));
  EXPECT_EQ(d->signature, c->signature);
  EXPECT_EQ(kb::card::verifyCredential(f.root, kUid, *d), kb::card::CredentialCheck::Genuine);
}

TEST(Credential, RejectsBadFields) {
  Fixture f;
  EXPECT_FALSE(kb::card::issueCredential(f.card_key, "kb-lower", kUid, 1));
  EXPECT_FALSE(kb::card::issueCredential(f.card_key, "12345", kUid, 1));
  EXPECT_FALSE(kb::card::issueCredential(f.card_key, std::string(25, '1'), kUid, 1));
  EXPECT_FALSE(kb::card::issueCredential(f.card_key, "KB-000001", kUid.substr(0, 4), 1));
  EXPECT_FALSE(kb::card::issueCredential(f.card_key, "KB-000001", kUid, 0x10000));
  auto c = kb::card::issueCredential(f.card_key, "KB-000001", kUid, 1);
  std::string bytes = kb::card::encodeCredential(*c);
  EXPECT_FALSE(kb::card::decodeCredential(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(kb::card::decodeCredential(bytes + "x"));
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_FALSE(kb::card::decodeCredential(v2));
  std::string bad_no = bytes;
  bad_no[2] = '\n';
  EXPECT_FALSE(kb::card::decodeCredential(bad_no));
}

TEST(Credential, SignatureCoversEveryFieldAndTheDomain) {
  Fixture f;
  auto c = *kb::card::issueCredential(f.card_key, "KB-000001", kUid, 100);
  auto changed = c;
  changed.issued = 101;
  EXPECT_EQ(kb::card::verifyCredential(f.root, kUid, changed), kb::card::CredentialCheck::Forged);
  changed = c;
  changed.card_no = "KB-000002";
  EXPECT_EQ(kb::card::verifyCredential(f.root, kUid, changed), kb::card::CredentialCheck::Forged);
  // The same key signing the bare bytes (no domain prefix) does not make a credential.
  changed = c;
  changed.signature =
      f.card_key.sign(kb::card::signedBytes(c).substr(kb::card::kCredentialDomain.size()));
  EXPECT_EQ(kb::card::verifyCredential(f.root, kUid, changed), kb::card::CredentialCheck::Forged);
}

TEST(Credential, SnapshotKeyIsNotACardKey) {
  Fixture f;
  auto c = *kb::card::issueCredential(f.snapshot_key, "KB-000001", kUid, 100);
  EXPECT_EQ(kb::card::verifyCredential(f.root, kUid, c), kb::card::CredentialCheck::Forged);
}

TEST(Credential, LongestCardNumberFitsNtag213) {
  Fixture f;
  auto c = *kb::card::issueCredential(f.card_key, std::string(24, '9'), kUid, 0xFFFF);
  std::string area = kb::card::credentialArea(c);
  EXPECT_LE(area.size(), 144u);
  EXPECT_TRUE(kb::card::encodeCardImage(Chip::Ntag213, kUid, c).has_value());
}

// ---------------------------------------------------------------- card image

TEST(CardImage, LayoutMatchesDatasheetForEachChip) {
  Fixture f;
  struct Case {
    Chip chip;
    std::size_t size;
    std::uint8_t cc;
    std::size_t config;
  };
  for (auto [chip, size, cc, config] :
       {Case{Chip::Ntag213, 180, 0x12, 40}, Case{Chip::Ntag215, 540, 0x3E, 130},
        Case{Chip::Ntag216, 924, 0x6D, 226}}) {
    std::string image = issuedImage(f, chip);
    ASSERT_EQ(image.size(), size);
    EXPECT_EQ(
        kb::hexEncode(image.substr(0, 12)),
        // 04 a1 b2 | BCC0 = 88^04^a1^b2 = 9f | c3 d4 e5 f6 | BCC1 = c3^d4^e5^f6 = 04 | 48 00 00
        "04a1b29fc3d4e5f604480000");
    EXPECT_EQ(kb::hexEncode(image.substr(12, 4)),
              "e110" + kb::hexEncode(std::string(1, static_cast<char>(cc))) + "00");
    EXPECT_EQ(image[16], '\x03');  // NDEF TLV first in user memory
    EXPECT_EQ(kb::hexEncode(image.substr(config * 4, 20)),
              "000000bd040000ff000500000000000000000000");
  }
}

TEST(CardImage, RoundTripGivesGenuineOnEveryChip) {
  Fixture f;
  for (Chip chip : {Chip::Ntag213, Chip::Ntag215, Chip::Ntag216}) {
    std::string image = issuedImage(f, chip);
    auto v = checkImage(f.root, ntag(chip, kUid), image);
    EXPECT_EQ(v.check, CardCheck::Genuine) << v.reason;
    EXPECT_EQ(v.card_no, "KB-1571-000123");
  }
}

TEST(CardImage, TooLargeAreaAndBadUidRejected) {
  EXPECT_EQ(kb::card::formatCardImage(Chip::Ntag213, kUid, std::string(145, 'x')).error().code,
            kb::Errc::TooLarge);
  EXPECT_FALSE(kb::card::formatCardImage(Chip::Ntag213, kUid.substr(0, 4), ""));
  EXPECT_FALSE(kb::card::formatCardImage(Chip::Unknown, kUid, ""));
  EXPECT_EQ(kb::card::chipFromName("ntag215"), Chip::Ntag215);
  EXPECT_FALSE(kb::card::chipFromName("mifare"));
}

// ---------------------------------------------------------------- verdicts

TEST(CardCheck, SameImageOnAnotherUidIsCloned) {
  Fixture f;
  std::string image = issuedImage(f, Chip::Ntag213);
  auto v = checkImage(f.root, ntag(Chip::Ntag213, kOtherUid), image);
  EXPECT_EQ(v.check, CardCheck::Cloned) << v.reason;
  EXPECT_EQ(v.card_no, "KB-1571-000123");
}

TEST(CardCheck, FlippedSignatureByteIsForged) {
  Fixture f;
  std::string image = issuedImage(f, Chip::Ntag213);
  // The signature is the last 64 bytes of the record, just before the terminator TLV.
  std::size_t terminator = image.find('\xFE', 16);
  ASSERT_NE(terminator, std::string::npos);
  image[terminator - 10] = static_cast<char>(image[terminator - 10] ^ 0x01);
  auto v = checkImage(f.root, ntag(Chip::Ntag213, kUid), image);
  EXPECT_EQ(v.check, CardCheck::Forged) << v.reason;
  EXPECT_TRUE(v.card_no.empty());
}

TEST(CardCheck, KeyOutsideTheRootIsForged) {
  Fixture f;
  Fixture other;  // its card key is not in f.root
  std::string image = issuedImage(other, Chip::Ntag215);
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag215, kUid), image).check, CardCheck::Forged);
}

TEST(CardCheck, BlankTagsAreUnknownFormat) {
  Fixture f;
  auto blank = *kb::card::blankCardImage(Chip::Ntag213, kUid);
  auto v = checkImage(f.root, ntag(Chip::Ntag213, kUid), blank);
  EXPECT_EQ(v.check, CardCheck::UnknownFormat);
  std::string unformatted = blank;
  std::fill(unformatted.begin() + 12, unformatted.end(), '\0');  // no CC at all
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag213, kUid), unformatted).check,
            CardCheck::UnknownFormat);
}

TEST(CardCheck, MifareClassicAndBankCardsAreUnknownFormat) {
  Fixture f;
  std::string image = issuedImage(f, Chip::Ntag213);
  for (std::string atqa_sak : {hex("000408"), hex("000218"), hex("000420")}) {
    kb::reader::CardPresence p{kUid, Chip::Ntag213, atqa_sak};
    EXPECT_EQ(checkImage(f.root, p, image).check, CardCheck::UnknownFormat);
  }
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Unknown, kUid), image).check, CardCheck::UnknownFormat);
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag213, kUid.substr(0, 4)), image).check,
            CardCheck::UnknownFormat);
}

TEST(CardCheck, ForeignNdefIsUnknownFormat) {
  Fixture f;
  // A URI record ("https://jambikota.go.id"), as on a poster tag.
  kb::card::ndef::Record uri{
      kb::card::ndef::Tnf::WellKnown, "U", {}, std::string("\x04jambikota.go.id")};
  std::string area = kb::card::ndef::encodeTlv(kb::card::ndef::encodeMessage({uri}));
  auto image = *kb::card::formatCardImage(Chip::Ntag213, kUid, area);
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag213, kUid), image).check, CardCheck::UnknownFormat);
  // Our type name but a future credential version: not understood, not forged.
  kb::card::ndef::Record future{
      kb::card::ndef::Tnf::External, std::string(kb::card::kRecordType), {}, "\x02xyz"};
  image = *kb::card::formatCardImage(
      Chip::Ntag213, kUid, kb::card::ndef::encodeTlv(kb::card::ndef::encodeMessage({future})));
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag213, kUid), image).check, CardCheck::UnknownFormat);
  // Our type and version but a broken body: claims to be ours and is not.
  kb::card::ndef::Record broken{
      kb::card::ndef::Tnf::External, std::string(kb::card::kRecordType), {}, "\x01xyz"};
  image = *kb::card::formatCardImage(
      Chip::Ntag213, kUid, kb::card::ndef::encodeTlv(kb::card::ndef::encodeMessage({broken})));
  EXPECT_EQ(checkImage(f.root, ntag(Chip::Ntag213, kUid), image).check, CardCheck::Forged);
}

TEST(CardCheck, CredentialAfterOtherRecordsAndTlvsIsFound) {
  Fixture f;
  auto c = *kb::card::issueCredential(f.card_key, "KB-000777", kUid, 5);
  kb::card::ndef::Record uri{kb::card::ndef::Tnf::WellKnown, "U", {}, std::string("\x04x.id")};
  // Type name in upper case: external types compare case-insensitively.
  std::string type(kb::card::kRecordType);
  for (auto& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  kb::card::ndef::Record ours{
      kb::card::ndef::Tnf::External, type, {}, kb::card::encodeCredential(c)};
  // NULL TLVs and a lock control TLV before the NDEF TLV, as some encoders write.
  std::string area = std::string("\x00\x00\x01\x03\xA0\x0C\x34", 7) +
                     kb::card::ndef::encodeTlv(kb::card::ndef::encodeMessage({uri, ours}));
  auto image = *kb::card::formatCardImage(Chip::Ntag215, kUid, area);
  auto v = checkImage(f.root, ntag(Chip::Ntag215, kUid), image);
  EXPECT_EQ(v.check, CardCheck::Genuine) << v.reason;
  EXPECT_EQ(v.card_no, "KB-000777");
}

TEST(CardCheck, TruncatedReadIsReadError) {
  Fixture f;
  std::string image = issuedImage(f, Chip::Ntag213);
  auto v =
      kb::card::checkCard(f.root, ntag(Chip::Ntag213, kUid), std::string_view(image).substr(12, 4),
                          std::string_view(image).substr(16, 40));
  EXPECT_EQ(v.check, CardCheck::ReadError);
}

// ---------------------------------------------------------------- NDEF parser

TEST(Ndef, TlvForms) {
  using Kind = kb::card::ndef::TlvScan::Kind;
  auto scan = kb::card::ndef::scanTlvs(std::string("\x00\x03\x02\xAB\xCD\xFE", 6), 64);
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->kind, Kind::Found);
  EXPECT_EQ(scan->value_offset, 3u);
  EXPECT_EQ(scan->value_length, 2u);
  // Three-byte length form.
  std::string big = std::string("\x03\xFF\x01\x00", 4) + std::string(256, 'a');
  scan = kb::card::ndef::scanTlvs(big, 504);
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->kind, Kind::Found);
  EXPECT_EQ(scan->value_offset, 4u);
  EXPECT_EQ(scan->value_length, 256u);
  // Partial read: tells how much more is needed.
  scan = kb::card::ndef::scanTlvs(big.substr(0, 16), 504);
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->kind, Kind::NeedMore);
  EXPECT_EQ(scan->needed, 260u);
  // Terminator first: no NDEF.
  scan = kb::card::ndef::scanTlvs(std::string("\xFE\x03\x00", 3), 64);
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->kind, Kind::NoNdef);
  // Lengths past the data area, and the forbidden 3-byte values.
  EXPECT_FALSE(kb::card::ndef::scanTlvs(std::string("\x03\x50", 2), 64));
  EXPECT_FALSE(kb::card::ndef::scanTlvs(std::string("\x03\xFF\x00\x10", 4), 4096));
  EXPECT_FALSE(kb::card::ndef::scanTlvs(std::string("\x03\xFF\xFF\xFF", 4), 0x20000));
  EXPECT_FALSE(kb::card::ndef::scanTlvs(std::string("\x01\x03", 2), 3));
}

TEST(Ndef, RecordHeaders) {
  using kb::card::ndef::parseMessage;
  // Long-form (non-SR) record with an ID.
  std::string long_record = std::string(
      "\xC9\x01\x00\x00\x00\x03\x01T"
      "iP"
      "xy",
      12);
  auto records = parseMessage(long_record);
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].tnf, kb::card::ndef::Tnf::WellKnown);
  EXPECT_EQ((*records)[0].type, "T");
  EXPECT_EQ((*records)[0].id, "i");
  EXPECT_EQ((*records)[0].payload, "Pxy");
  EXPECT_TRUE(parseMessage("")->empty());
  EXPECT_FALSE(parseMessage(std::string("\x51\x01\x00T", 4)));              // MB missing
  EXPECT_FALSE(parseMessage(std::string("\x91\x01\x00T", 4)));              // ME missing
  EXPECT_FALSE(parseMessage(std::string("\xF1\x01\x00T", 4)));              // chunked
  EXPECT_FALSE(parseMessage(std::string("\xD7\x00\x00", 3)));               // reserved TNF
  EXPECT_FALSE(parseMessage(std::string("\xD1\x01\x05T", 4)));              // payload past end
  EXPECT_FALSE(parseMessage(std::string("\xC1\x01\xFF\xFF\xFF\xF0T", 7)));  // 4 GB payload claimed
  EXPECT_FALSE(parseMessage(std::string("\xD1\x01\x00T\x00", 5)));          // bytes after ME
  EXPECT_FALSE(parseMessage(std::string("\xD0\x01\x00T", 4)));              // TNF 0 with a type
}

// ---------------------------------------------------------------- originality

TEST(Originality, NxpKeyIsAPointOnSecp128r1) {
  auto key = kb::card::OriginalityKey::nxpNtag21x();
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(kb::hexEncode(key->point()),
            "04494e1a386d3d3cfe3dc10e5de68a499b1c202db5b132393e89ed19fe5be8bc61");
  // One bit off in Y is no longer on the curve.
  std::string bad = kb::card::nxpNtag21xPublicKey();
  bad[32] = static_cast<char>(bad[32] ^ 0x01);
  EXPECT_FALSE(kb::card::OriginalityKey::fromPoint(bad));
  EXPECT_FALSE(kb::card::OriginalityKey::fromPoint(bad.substr(0, 17)));
}

TEST(Originality, PublishedNtag21xSamplesVerifyWithNxpKey) {
  // READ_SIG answers of two genuine NTAG21x chips, as published with the
  // Proxmark3 originality-key self-tests (doegox, ecdsa_publickey_recovery.py).
  auto key = *kb::card::OriginalityKey::nxpNtag21x();
  EXPECT_TRUE(key.verify(hex("04E10CDA993C80"),
                         hex("8B76052EE42F5567BEB53238B3E3F9950707C0DCC956B5C5EFCFDB709B2D82B3")));
  EXPECT_TRUE(key.verify(hex("04DB0BDA993C80"),
                         hex("6048EFD9417CD10F6B7F1818D471A7FE5B46868D2EABDC6307A1E0AAE139D8D0")));
  EXPECT_FALSE(key.verify(hex("04DB0BDA993C81"),
                          hex("6048EFD9417CD10F6B7F1818D471A7FE5B46868D2EABDC6307A1E0AAE139D8D0")));
  std::vector<kb::card::OriginalityKey> keys{key};
  EXPECT_EQ(kb::card::checkOriginality(
                keys, hex("04E10CDA993C80"),
                hex("8B76052EE42F5567BEB53238B3E3F9950707C0DCC956B5C5EFCFDB709B2D82B3")),
            kb::card::Originality::Valid);
}

TEST(Originality, TestKeyValidInvalidNotSupported) {
  const std::string dir =
      std::string(std::getenv("KB_SOURCE_DIR") ? std::getenv("KB_SOURCE_DIR") : ".") +
      "/tests/card/data/";
  auto priv = kb::readFile(dir + "originality_test.key", 4096);
  auto pub = kb::readFile(dir + "originality_test.pub", 4096);
  ASSERT_TRUE(priv && pub);
  auto key = kb::card::OriginalityKey::fromPem(*pub);
  ASSERT_TRUE(key) << key.error().message;
  auto sig = kb::card::signOriginality(*priv, kUid);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->size(), 32u);
  std::vector<kb::card::OriginalityKey> keys{*kb::card::OriginalityKey::nxpNtag21x(), *key};
  EXPECT_EQ(kb::card::checkOriginality(keys, kUid, *sig), kb::card::Originality::Valid);
  EXPECT_EQ(kb::card::checkOriginality(keys, kOtherUid, *sig), kb::card::Originality::Invalid);
  EXPECT_EQ(kb::card::checkOriginality(keys, kUid, std::nullopt),
            kb::card::Originality::NotSupported);
  EXPECT_EQ(kb::card::checkOriginality(keys, kUid, std::string(32, '\0')),
            kb::card::Originality::Invalid);
  // Only NXP's key: a test-key signature is not an NXP chip.
  EXPECT_EQ(kb::card::checkOriginality({keys[0]}, kUid, *sig), kb::card::Originality::Invalid);
  // PEM round trip of a fresh key.
  auto fresh = *kb::card::OriginalitySigningKey::generate();
  auto again = kb::card::OriginalitySigningKey::fromPem(fresh.toPem());
  ASSERT_TRUE(again);
  auto pub_again = kb::card::OriginalityKey::fromPem(fresh.publicKey().toPem());
  ASSERT_TRUE(pub_again);
  EXPECT_TRUE(pub_again->verify(kUid, *again->sign(kUid)));
  EXPECT_FALSE(kb::card::OriginalityKey::fromPem("not a key"));
}

// ---------------------------------------------------------------- tap flow

// An in-memory card behind the reader interface: unit logic only (the PN532
// emulator test drives the real libnfc path).
class MemoryReader : public kb::reader::Reader {
 public:
  MemoryReader(std::string image, std::optional<std::string> signature)
      : image_(std::move(image)), signature_(std::move(signature)) {}
  kb::Result<void> open() override { return {}; }
  kb::Result<std::optional<kb::reader::CardPresence>> waitForCard(
      std::chrono::milliseconds) override {
    return std::nullopt;  // not used
  }
  kb::Result<std::string> readPages(int first, int count) override {
    ++reads;
    if (fail_after_pages >= 0 && pages_read + count > fail_after_pages)
      return kb::fail(kb::ReaderErrc::ReadError, "card left the field");
    if (first < 0 || count <= 0 || static_cast<std::size_t>((first + count) * 4) > image_.size())
      return kb::fail(kb::ReaderErrc::ReadError, "NAK");
    pages_read += count;
    return image_.substr(static_cast<std::size_t>(first * 4), static_cast<std::size_t>(count * 4));
  }
  kb::Result<std::optional<std::string>> readSignature() override { return signature_; }
  kb::Result<void> writePages(int, std::string_view) override {
    return kb::fail(kb::Errc::Io, "read-only");
  }
  kb::Result<bool> cardPresent() override { return true; }
  void abort() override {}
  void close() override {}

  int reads = 0;
  int pages_read = 0;
  int fail_after_pages = -1;

 private:
  std::string image_;
  std::optional<std::string> signature_;
};

TEST(Tap, ReadsOnlyTheCredentialPages) {
  Fixture f;
  auto signer = *kb::card::OriginalitySigningKey::generate();
  std::vector<kb::card::OriginalityKey> keys{signer.publicKey()};
  for (Chip chip : {Chip::Ntag213, Chip::Ntag216}) {
    MemoryReader reader(issuedImage(f, chip), *signer.sign(kUid));
    auto tap = kb::card::identifyCard(reader, ntag(chip, kUid), f.root, keys);
    ASSERT_TRUE(tap) << tap.error().message;
    EXPECT_EQ(tap->verdict.check, CardCheck::Genuine) << tap->verdict.reason;
    EXPECT_EQ(tap->originality, kb::card::Originality::Valid);
    // CC + a 132-byte TLV (pages 3..36) in two reads, against 45/231 pages for a full dump.
    EXPECT_EQ(tap->pages_read, 1 + 33);
    EXPECT_EQ(reader.reads, 2);
    auto json = kb::card::tapJson(*tap);
    EXPECT_EQ(json["card_no"], "KB-1571-000123");
    EXPECT_EQ(json["uid"], "04a1b2c3d4e5f6");
    EXPECT_EQ(json["card_check"], "GENUINE");
    EXPECT_EQ(json["originality"], "VALID");
  }
}

TEST(Tap, CardPulledMidReadIsReadErrorAndClassicIsNotRead) {
  Fixture f;
  MemoryReader reader(issuedImage(f, Chip::Ntag213), std::nullopt);
  reader.fail_after_pages = 8;
  auto tap = kb::card::identifyCard(reader, ntag(Chip::Ntag213, kUid), f.root, {});
  ASSERT_TRUE(tap);
  EXPECT_EQ(tap->verdict.check, CardCheck::ReadError);

  MemoryReader classic(issuedImage(f, Chip::Ntag213), std::nullopt);
  tap = kb::card::identifyCard(classic, {kUid.substr(0, 4), Chip::Unknown, hex("000408")}, f.root,
                               {});
  ASSERT_TRUE(tap);
  EXPECT_EQ(tap->verdict.check, CardCheck::UnknownFormat);
  EXPECT_EQ(classic.reads, 0);
  EXPECT_EQ(kb::card::tapJson(*tap)["card_no"], nullptr);
}

TEST(Tap, HostileCcCannotMakeUsReadPastTheChip) {
  Fixture f;
  std::string image = issuedImage(f, Chip::Ntag213);
  image[14] = '\xFF';                            // CC claims 2040 bytes
  image[16 + 1] = '\xFF';                        // and the TLV a 3-byte length...
  image.insert(18, std::string("\x03\x00", 2));  // ...of 0x0300 bytes
  image.resize(180);
  MemoryReader reader(image, std::nullopt);
  auto tap = kb::card::identifyCard(reader, ntag(Chip::Ntag213, kUid), f.root, {});
  ASSERT_TRUE(tap);
  EXPECT_EQ(tap->verdict.check, CardCheck::UnknownFormat) << tap->verdict.reason;
  EXPECT_LE(tap->pages_read, 4);
}

}  // namespace
