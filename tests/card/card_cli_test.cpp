// End to end: `kbctl card encode` makes an image, the PN532 emulator presents it on
// a pty, and `kbctl card read` / `card write` talk to it through the real libnfc
// pn532_uart driver (docs/contracts.md §2, issue 3 "done means").

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "card/card_check.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"
#include "pn532_emulator.h"
#include "trust/trust.h"

namespace {

namespace fs = std::filesystem;
using kb::test::EmulatedCard;
using kb::test::TagKind;

const std::string kUid("\x04\xa1\xb2\xc3\xd4\xe5\xf6", 7);
const std::string kOtherUid("\x04\x11\x22\x33\x44\x55\x66", 7);

std::string env(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

std::string kbctl() {
  return env("KBCTL", env("KB_BINARY_DIR", ".") + "/daemon/bin/kbctl/kbctl");
}

std::string testData(const std::string& name) {
  return env("KB_SOURCE_DIR", ".") + "/tests/card/data/" + name;
}

struct RunResult {
  int status = -1;  ///< exit status
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

// Runs a command with libnfc confined to the one device given (no scanning of real ports).
RunResult run(const std::string& args, const fs::path& dir) {
  const std::string cmd = "cd '" + dir.string() +
                          "' && LIBNFC_AUTO_SCAN=false LIBNFC_INTRUSIVE_SCAN=false timeout 60 " +
                          args + " </dev/null 2>stderr.txt";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.err = kb::readFile(dir / "stderr.txt", 1 << 20).value_or("");
  return r;
}

class CardCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kbctl())) << "kbctl not built at " << kbctl();
    std::string tmpl = (fs::temp_directory_path() / "kb-card-cli-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    auto root_key = *kb::crypto::SigningKey::generate();
    auto snapshot_key = *kb::crypto::SigningKey::generate();
    card_key_ = std::make_unique<kb::crypto::SigningKey>(*kb::crypto::SigningKey::generate());
    kb::trust::RootSpec spec;
    spec.expires = kb::nowSeconds() + 86400;
    spec.dev = true;
    spec.root_keys = {root_key.publicKey()};
    spec.snapshot_keys = {snapshot_key.publicKey()};
    spec.card_keys = {card_key_->publicKey()};
    ASSERT_TRUE(kb::writeFileAtomic(dir_ / "root.json", kb::trust::makeRoot(spec, {root_key})));
    ASSERT_TRUE(kb::writeFileAtomic(dir_ / "card.key", card_key_->toPem(), 0600));
    auto emu = kb::test::Pn532Emulator::start();
    ASSERT_TRUE(emu) << emu.error().message;
    emu_ = std::move(*emu);
    auto priv = kb::readFile(testData("originality_test.key"), 4096);
    ASSERT_TRUE(priv);
    originality_key_ = *priv;
  }
  void TearDown() override {
    emu_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  std::string encode(const std::string& chip, const std::string& card_no = "KB-1571-000123") {
    RunResult r =
        run(kbctl() + " card encode --card-no " + card_no + " --uid " + kb::hexEncode(kUid) +
                " --key card.key --chip " + chip + " --issued 2026-11-21 --out card.mfd",
            dir_);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "card.mfd\n");
    EXPECT_EQ(fs::status(dir_ / "card.mfd").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                  fs::perms::others_read);
    return kb::readFile(dir_ / "card.mfd", 4096).value_or("");
  }

  EmulatedCard card(TagKind kind, std::string image, const std::string& uid) {
    return EmulatedCard{kind, uid, std::move(image),
                        *kb::card::signOriginality(originality_key_, uid)};
  }

  nlohmann::json readJson(const std::string& extra = {}) {
    RunResult r = run(kbctl() + " card read --device " + emu_->connstring() +
                          " --root root.json --wait 5 --json" + " --originality-key " +
                          testData("originality_test.pub") + extra,
                      dir_);
    EXPECT_EQ(r.status, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  fs::path dir_;
  std::unique_ptr<kb::crypto::SigningKey> card_key_;
  std::unique_ptr<kb::test::Pn532Emulator> emu_;
  std::string originality_key_;
};

TEST_F(CardCliTest, EncodedCardReadsGenuineAndItsCopyCloned) {
  const std::string image = encode("ntag213");
  ASSERT_EQ(image.size(), 180u);
  emu_->insert(card(TagKind::Ntag213, image, kUid));
  auto j = readJson();
  EXPECT_EQ(j["card_check"], "GENUINE") << j.dump();
  EXPECT_EQ(j["card_no"], "KB-1571-000123");
  EXPECT_EQ(j["uid"], kb::hexEncode(kUid));
  EXPECT_EQ(j["chip"], "ntag213");
  EXPECT_EQ(j["originality"], "VALID");

  // The same image copied onto another genuine chip: the chip's own signature is
  // fine, the credential's UID binding is not.
  emu_->insert(card(TagKind::Ntag213, image, kOtherUid));
  j = readJson();
  EXPECT_EQ(j["card_check"], "CLONED") << j.dump();
  EXPECT_EQ(j["card_no"], "KB-1571-000123");
  EXPECT_EQ(j["originality"], "VALID");

  // An emulator answering READ_SIG with zeros, and a reader without the test key.
  emu_->insert(EmulatedCard{TagKind::Ntag213, kUid, image, {}});
  j = readJson();
  EXPECT_EQ(j["card_check"], "GENUINE");
  EXPECT_EQ(j["originality"], "INVALID");
}

TEST_F(CardCliTest, EveryChipSizeReadsGenuineInTextMode) {
  for (auto [name, kind] :
       {std::pair{"ntag215", TagKind::Ntag215}, std::pair{"ntag216", TagKind::Ntag216}}) {
    emu_->insert(card(kind, encode(name), kUid));
    RunResult r = run(
        kbctl() + " card read --device " + emu_->connstring() + " --root root.json --wait 5", dir_);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("card_check: GENUINE\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("chip: ") + name + "\n"), std::string::npos) << r.out;
  }
}

TEST_F(CardCliTest, BlankTagAndClassicAreUnknownFormat) {
  emu_->insert(EmulatedCard{TagKind::Ntag213, kUid, {}, {}});
  EXPECT_EQ(readJson()["card_check"], "UNKNOWN_FORMAT");
  emu_->insert(EmulatedCard{TagKind::MifareClassic1k, std::string("\xde\xad\xbe\xef", 4), {}, {}});
  auto j = readJson();
  EXPECT_EQ(j["card_check"], "UNKNOWN_FORMAT") << j.dump();
  EXPECT_EQ(j["card_no"], nullptr);
}

TEST_F(CardCliTest, CardPulledMidReadIsReadError) {
  emu_->insert(card(TagKind::Ntag213, encode("ntag213"), kUid));
  emu_->setFault(kb::test::Fault::CardGoneAfterReads, 1);  // CC read answers, the rest does not
  RunResult r = run(
      kbctl() + " card read --device " + emu_->connstring() + " --root root.json --wait 5 --json",
      dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: READ_ERROR: ", 0), 0u) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j.value("card_check", ""), "READ_ERROR") << r.out;
}

TEST_F(CardCliTest, NoCardIsNoCardError) {
  RunResult r = run(
      kbctl() + " card read --device " + emu_->connstring() + " --root root.json --wait 1", dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: NO_CARD: ", 0), 0u) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CardCliTest, ImageIsWhatNfcMfultralightDumps) {
  ASSERT_EQ(std::system("command -v nfc-mfultralight >/dev/null 2>&1"), 0)
      << "nfc-mfultralight missing: scripts/install-deps.sh installs libnfc-bin";
  const std::string image = encode("ntag213");
  emu_->insert(card(TagKind::Ntag213, image, kUid));
  RunResult r =
      run("env LIBNFC_DEVICE=" + emu_->connstring() + " nfc-mfultralight r dump.mfd", dir_);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(kb::readFile(dir_ / "dump.mfd", 4096).value_or(""), image);
}

TEST_F(CardCliTest, WritePersonalisesABlankCardOnly) {
  emu_->insert(card(TagKind::Ntag215, {}, kOtherUid));  // factory-fresh NTAG215
  RunResult w = run(kbctl() + " card write --device " + emu_->connstring() +
                        " --card-no KB-1571-000999 --key card.key --wait 5",
                    dir_);
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_NE(w.out.find("KB-1571-000999"), std::string::npos);
  auto j = readJson();
  EXPECT_EQ(j["card_check"], "GENUINE") << j.dump();
  EXPECT_EQ(j["card_no"], "KB-1571-000999");
  EXPECT_EQ(j["uid"], kb::hexEncode(kOtherUid));

  // Written once, it is no longer blank: a second write is refused and changes nothing.
  const auto before = emu_->cardMemory();
  RunResult again = run(kbctl() + " card write --device " + emu_->connstring() +
                            " --card-no KB-1571-000111 --key card.key --wait 5",
                        dir_);
  EXPECT_EQ(again.status, 1);
  EXPECT_EQ(again.err.rfind("error: CARD_NOT_BLANK: ", 0), 0u) << again.err;
  EXPECT_NE(again.err.find("not blank"), std::string::npos) << again.err;
  EXPECT_EQ(emu_->cardMemory(), before);

  // The wrong chip size is refused before anything is written.
  emu_->insert(card(TagKind::Ntag213, {}, kUid));
  const auto blank = emu_->cardMemory();
  RunResult wrong = run(kbctl() + " card write --device " + emu_->connstring() +
                            " --card-no KB-1571-000222 --key card.key --chip ntag216 --wait 5",
                        dir_);
  // A card-state problem, not a wrong command line.
  EXPECT_EQ(wrong.status, 1) << wrong.err;
  EXPECT_EQ(wrong.err.rfind("error: WRONG_CHIP: ", 0), 0u) << wrong.err;
  EXPECT_EQ(emu_->cardMemory(), blank);
}

TEST_F(CardCliTest, WriteThatDoesNotReadBackIsVerifyFailed) {
  emu_->insert(card(TagKind::Ntag213, {}, kUid));
  emu_->setFault(kb::test::Fault::WritesIgnored);  // every WRITE ACKed, nothing stored
  RunResult w = run(kbctl() + " card write --device " + emu_->connstring() +
                        " --card-no KB-1571-000333 --key card.key --wait 5",
                    dir_);
  EXPECT_EQ(w.status, 1) << w.err;
  EXPECT_EQ(w.err.rfind("error: VERIFY_FAILED: ", 0), 0u) << w.err;
  EXPECT_TRUE(w.out.empty()) << w.out;
}

TEST_F(CardCliTest, NonNtagCardIsWrongChip) {
  emu_->insert(EmulatedCard{TagKind::MifareClassic1k, std::string("\xde\xad\xbe\xef", 4), {}, {}});
  RunResult w = run(kbctl() + " card write --device " + emu_->connstring() +
                        " --card-no KB-1571-000444 --key card.key --wait 5",
                    dir_);
  EXPECT_EQ(w.status, 1) << w.err;
  EXPECT_EQ(w.err.rfind("error: WRONG_CHIP: ", 0), 0u) << w.err;
}

TEST_F(CardCliTest, UsageErrors) {
  RunResult r = run(kbctl() +
                        " card encode --card-no kb-bad --uid 04a1b2c3d4e5f6 --key card.key --chip "
                        "ntag213 --out x.mfd",
                    dir_);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("error: USAGE: ", 0), 0u) << r.err;
  r = run(
      kbctl() +
          " card encode --card-no KB-000001 --uid 04a1 --key card.key --chip ntag213 --out x.mfd",
      dir_);
  EXPECT_EQ(r.status, 2);
  r = run(kbctl() +
              " card encode --card-no KB-000001 --uid 04a1b2c3d4e5f6 --key card.key --chip mifare "
              "--out x.mfd",
          dir_);
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(fs::exists(dir_ / "x.mfd"));
  r = run(kbctl() + " card read --help", dir_);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--originality-key"), std::string::npos);
}

}  // namespace
