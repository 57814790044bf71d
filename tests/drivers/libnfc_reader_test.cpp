// The libnfc driver against the PN532 emulator over a real pty: the real libnfc pn532_uart
// code path, including the fault cases users of libnfc readers hit.
#include "libnfc/libnfc_reader.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "drivers_test_util.h"
#include "reader.h"

namespace kb::test {
namespace {

using namespace std::chrono_literals;
using reader::Chip;
using reader::LibnfcOptions;
using reader::LibnfcReader;

constexpr auto kHangBound = 10s;  // catches hangs; never a performance assertion

class LibnfcReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Pn532Emulator::start();
    ASSERT_TRUE(e) << e.error().message;
    emu_ = std::move(*e);
    LibnfcOptions o;
    o.connstring = emu_->connstring();
    o.call_guard = 500ms;
    reader_ = std::make_unique<LibnfcReader>(o);
    auto opened = reader_->open();
    ASSERT_TRUE(opened) << opened.error().message;
  }

  reader::CardPresence waitCard() {
    auto card = reader_->waitForCard(3s);
    EXPECT_TRUE(card) << card.error().message;
    EXPECT_TRUE(card && card->has_value()) << "no card within the wait";
    return card && *card ? **card : reader::CardPresence{};
  }

  // Runs `f` on another thread and fails the test if it does not return in kHangBound.
  template <class F>
  auto bounded(F f) {
    auto fut = std::async(std::launch::async, std::move(f));
    if (fut.wait_for(kHangBound) != std::future_status::ready) {
      ADD_FAILURE() << "call hung";
      emu_->unplug();  // unblock it so the test can finish
    }
    return fut.get();
  }

  std::unique_ptr<Pn532Emulator> emu_;
  std::unique_ptr<LibnfcReader> reader_;
};

TEST_F(LibnfcReaderTest, OpensAndNamesTheDevice) {
  EXPECT_NE(reader_->deviceName().find("pn532_uart"), std::string::npos) << reader_->deviceName();
}

TEST_F(LibnfcReaderTest, WaitWithoutCardTimesOutWithNoCard) {
  auto card = reader_->waitForCard(150ms);
  ASSERT_TRUE(card) << card.error().message;  // no card is a value, not an error
  EXPECT_FALSE(card->has_value());
}

TEST_F(LibnfcReaderTest, CardPlacedDuringTheWaitIsFound) {
  std::thread placer([&] {
    std::this_thread::sleep_for(100ms);
    emu_->insert(ntag());
  });
  auto card = reader_->waitForCard(5s);
  placer.join();
  ASSERT_TRUE(card) << card.error().message;
  ASSERT_TRUE(card->has_value());
  EXPECT_EQ((*card)->uid, kUid);
}

class ChipTest : public LibnfcReaderTest,
                 public ::testing::WithParamInterface<std::pair<TagKind, Chip>> {};

TEST_P(ChipTest, DetectsChipAndReadsWholeMemory) {
  const auto [kind, chip] = GetParam();
  emu_->insert(ntag(kind));
  const auto card = waitCard();
  EXPECT_EQ(card.chip, chip);
  EXPECT_EQ(card.uid, kUid);
  EXPECT_EQ(card.atqa_sak, std::string("\x00\x44\x00", 3));
  auto pages = reader_->readPages(0, ntagPageCount(kind));
  ASSERT_TRUE(pages) << pages.error().message;
  EXPECT_EQ(*pages, patternImage(kind));
}

INSTANTIATE_TEST_SUITE_P(Ntag21x, ChipTest,
                         ::testing::Values(std::pair{TagKind::Ntag213, Chip::Ntag213},
                                           std::pair{TagKind::Ntag215, Chip::Ntag215},
                                           std::pair{TagKind::Ntag216, Chip::Ntag216}));

TEST_F(LibnfcReaderTest, ReadsAPageRangeAndTheSignature) {
  emu_->insert(ntag());
  waitCard();
  auto pages = reader_->readPages(4, 3);
  ASSERT_TRUE(pages) << pages.error().message;
  EXPECT_EQ(*pages, patternImage(TagKind::Ntag213).substr(16, 12));
  auto sig = reader_->readSignature();
  ASSERT_TRUE(sig) << sig.error().message;
  ASSERT_TRUE(sig->has_value());
  EXPECT_EQ(**sig, testSignature());
}

TEST_F(LibnfcReaderTest, PasswordPagesReadAsZeroLikeARealTag) {
  auto card = ntag();
  card.memory = blankNtagImage(TagKind::Ntag213, kUid);  // PWD ff ff ff ff
  emu_->insert(card);
  waitCard();
  auto pwd = reader_->readPages(43, 1);
  ASSERT_TRUE(pwd) << pwd.error().message;
  EXPECT_EQ(*pwd, std::string(4, '\0'));
}

TEST_F(LibnfcReaderTest, ReadBeyondTheChipIsAnError) {
  emu_->insert(ntag());
  waitCard();
  auto r = reader_->readPages(40, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReaderErrc::ReadError);
}

TEST_F(LibnfcReaderTest, WritesAndReadsBack) {
  emu_->insert(ntag());
  waitCard();
  const std::string data("KartuBahagia", 12);
  ASSERT_TRUE(reader_->writePages(4, data));
  auto back = reader_->readPages(4, 3);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, data);
  EXPECT_EQ(emu_->cardMemory()->substr(16, 12), data);
}

TEST_F(LibnfcReaderTest, WriteToTheUidPagesIsRefused) {
  emu_->insert(ntag());
  waitCard();
  auto w = reader_->writePages(0, std::string(4, 'x'));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ReaderErrc::ReadError);
  EXPECT_EQ(emu_->cardMemory()->substr(0, 3), kUid.substr(0, 3));
}

TEST_F(LibnfcReaderTest, RemovalIsDetected) {
  emu_->insert(ntag());
  waitCard();
  auto present = reader_->cardPresent();
  ASSERT_TRUE(present);
  EXPECT_TRUE(*present);
  emu_->remove();
  present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_FALSE(*present);
}

TEST_F(LibnfcReaderTest, AnotherCardIsNotTheSameCard) {
  emu_->insert(ntag());
  waitCard();
  emu_->insert(ntag(TagKind::Ntag213, std::string("\x04\x99\x88\x77\x66\x55\x44", 7)));
  auto present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_FALSE(*present);
}

TEST_F(LibnfcReaderTest, CardPulledMidReadGivesReadErrorWithoutHanging) {
  emu_->insert(ntag(TagKind::Ntag216));
  waitCard();
  emu_->setFault(Fault::CardGoneAfterReads, 1);
  auto r = bounded([&] { return reader_->readPages(0, 231); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReaderErrc::ReadError) << r.error().message;
  auto present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_FALSE(*present);
}

TEST_F(LibnfcReaderTest, GarbageFromTheReaderIsAnErrorNotAHang) {
  emu_->insert(ntag());
  emu_->setFault(Fault::Garbage);
  auto card = bounded([&] { return reader_->waitForCard(1s); });
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost) << card.error().message;
}

TEST_F(LibnfcReaderTest, ReaderThatStopsAnsweringIsLostNotAHang) {
  emu_->insert(ntag());
  waitCard();
  emu_->setFault(Fault::NoResponse);
  auto r = bounded([&] { return reader_->readPages(0, 4); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReaderErrc::ReaderLost) << r.error().message;
  auto card = bounded([&] { return reader_->waitForCard(1s); });
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost) << card.error().message;
}

TEST_F(LibnfcReaderTest, SilentReaderIsLostNotAHang) {
  emu_->setFault(Fault::Silent);
  auto card = bounded([&] { return reader_->waitForCard(1s); });
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost) << card.error().message;
}

TEST_F(LibnfcReaderTest, SelectThatNeverAnswersIsAbortedByTheGuard) {
  // libnfc 1.8 bounds this select itself (350 ms); a guard shorter than that proves the
  // watchdog path that protects drivers and versions which wait without limit.
  reader_->close();
  reader_ = std::make_unique<LibnfcReader>(
      LibnfcOptions{.connstring = emu_->connstring(), .call_guard = 100ms});
  ASSERT_TRUE(reader_->open());
  emu_->setFault(Fault::NoResponse, 0x4A);  // only InListPassiveTarget goes unanswered
  auto card = bounded([&] { return reader_->waitForCard(5s); });
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost) << card.error().message;
  EXPECT_NE(card.error().message.find("stopped answering"), std::string::npos)
      << card.error().message;
}

TEST_F(LibnfcReaderTest, UnpluggedReaderIsLost) {
  emu_->insert(ntag());
  waitCard();
  emu_->unplug();
  auto r = bounded([&] { return reader_->readPages(0, 4); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReaderErrc::ReaderLost);
  auto card = bounded([&] { return reader_->waitForCard(200ms); });
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost);
  reader_->close();
  auto reopened = reader_->open();
  EXPECT_FALSE(reopened);
}

TEST_F(LibnfcReaderTest, AbortEndsALongWait) {
  auto fut = std::async(std::launch::async, [&] { return reader_->waitForCard(60s); });
  std::this_thread::sleep_for(100ms);
  reader_->abort();
  ASSERT_EQ(fut.wait_for(kHangBound), std::future_status::ready) << "abort did not end the wait";
  auto card = fut.get();
  ASSERT_TRUE(card) << card.error().message;  // an aborted wait is "no card", not an error
  EXPECT_FALSE(card->has_value());
  // The abort is consumed: the reader still works afterwards.
  emu_->insert(ntag());
  EXPECT_TRUE(reader_->waitForCard(3s).value_or(std::nullopt));
}

TEST_F(LibnfcReaderTest, MifareClassicIsAnUnknownChipWithoutSignature) {
  emu_->insert(EmulatedCard{TagKind::MifareClassic1k, std::string("\xde\xad\xbe\xef", 4), {}, {}});
  const auto card = waitCard();
  EXPECT_EQ(card.chip, Chip::Unknown);
  EXPECT_EQ(card.atqa_sak, std::string("\x00\x04\x08", 3));
  EXPECT_EQ(card.uid, std::string("\xde\xad\xbe\xef", 4));
  auto sig = reader_->readSignature();
  ASSERT_TRUE(sig);
  EXPECT_FALSE(sig->has_value());
  auto present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_TRUE(*present);
  emu_->remove();
  present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_FALSE(*present);
}

TEST_F(LibnfcReaderTest, BankCardIsAnUnknownChip) {
  emu_->insert(EmulatedCard{TagKind::Iso14443_4, {}, {}, {}});
  const auto card = waitCard();
  EXPECT_EQ(card.chip, Chip::Unknown);
  EXPECT_EQ(static_cast<unsigned char>(card.atqa_sak[2]), 0x20);
  auto present = reader_->cardPresent();
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_TRUE(*present);
}

TEST(LibnfcReaderThrottled, ReadsAtSerialSpeed) {
  auto emu = Pn532Emulator::start(EmulatorOptions{.throttle = true});
  ASSERT_TRUE(emu);
  (*emu)->insert(ntag());
  LibnfcReader r(LibnfcOptions{.connstring = (*emu)->connstring()});
  ASSERT_TRUE(r.open());
  auto card = r.waitForCard(3s);
  ASSERT_TRUE(card) << card.error().message;
  ASSERT_TRUE(card->has_value());
  auto pages = r.readPages(0, 45);
  ASSERT_TRUE(pages) << pages.error().message;
  EXPECT_EQ(*pages, patternImage(TagKind::Ntag213));
  EXPECT_GT((*emu)->stats().bytesOut, 180u);
}

TEST(LibnfcReaderOpen, MissingDeviceIsReaderLost) {
  LibnfcReader r(LibnfcOptions{.connstring = "pn532_uart:/nonexistent/tty"});
  auto opened = r.open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ReaderErrc::ReaderLost);
  auto card = r.waitForCard(10ms);
  ASSERT_FALSE(card);
  EXPECT_EQ(card.error().code, ReaderErrc::ReaderLost);
}

}  // namespace
}  // namespace kb::test
