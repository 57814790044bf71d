// ReaderSupervisor: events from the sim reader, and a full unplug/replug cycle of the libnfc
// driver against the emulator, where the new emulator appears behind the same symlink.
#include <gtest/gtest.h>

#include <future>

#include "drivers_test_util.h"
#include "libnfc/libnfc_reader.h"
#include "sim/sim_reader.h"

namespace kb::test {
namespace {

using namespace std::chrono_literals;
using reader::ReaderEvent;
using Kind = reader::ReaderEvent::Kind;

reader::SupervisorOptions fastOptions() {
  reader::SupervisorOptions o;
  o.wait_slice = 100ms;
  o.presence_interval = 20ms;
  o.backoff_start = 20ms;
  o.backoff_max = 200ms;
  return o;
}

// stop() must return; the bound only catches a hang.
void stopBounded(reader::ReaderSupervisor& s) {
  auto fut = std::async(std::launch::async, [&] { s.stop(); });
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready) << "stop() hung";
}

TEST(ReaderSupervisorSim, ReportsArrivalRemovalLossAndReturn) {
  reader::SimReader sim;
  EventLog log;
  std::string readInCallback;
  reader::ReaderSupervisor sup(
      sim,
      [&](const ReaderEvent& e, reader::Reader* r) {
        if (e.kind == Kind::CardArrived && r) {
          auto pages = r->readPages(0, 1);
          if (pages) readInCallback = *pages;
        }
        log.push(e);
      },
      fastOptions());
  sup.start();
  reader::CardImage card;
  card.uid = std::string("\x04\x01\x02\x03\x04\x05\x06", 7);
  card.pages = std::string(180, 'p');
  sim.tap(card);
  ASSERT_TRUE(log.waitFor(Kind::CardArrived));
  EXPECT_EQ(readInCallback, "pppp");
  sim.remove();
  ASSERT_TRUE(log.waitFor(Kind::CardRemoved));
  sim.unplug();
  ASSERT_TRUE(log.waitFor(Kind::ReaderLost));
  sim.replug();
  ASSERT_TRUE(log.waitFor(Kind::ReaderBack));
  sim.tap(card);
  ASSERT_TRUE(log.waitFor(Kind::CardArrived, 2));
  stopBounded(sup);
  EXPECT_EQ(log.countOf(Kind::CardArrived), 2u);
}

// The sim reader, except that its card leaves the field for 25 ms once (an RF
// glitch, a shaky hand).
class GlitchyReader : public reader::Reader {
 public:
  reader::SimReader sim;

  Result<void> open() override { return sim.open(); }
  Result<std::optional<reader::CardPresence>> waitForCard(std::chrono::milliseconds t) override {
    return sim.waitForCard(t);
  }
  Result<std::string> readPages(int first, int count) override {
    return sim.readPages(first, count);
  }
  Result<std::optional<std::string>> readSignature() override { return sim.readSignature(); }
  Result<void> writePages(int first, std::string_view data) override {
    return sim.writePages(first, data);
  }
  Result<bool> cardPresent() override {
    auto now = std::chrono::steady_clock::now();
    if (++checks_ == 3) glitch_until_ = now + 25ms;
    if (now < glitch_until_) return false;
    return sim.cardPresent();
  }
  void abort() override { sim.abort(); }
  void close() override { sim.close(); }

 private:
  int checks_ = 0;
  std::chrono::steady_clock::time_point glitch_until_{};
};

TEST(ReaderSupervisorSim, AShortGlitchIsNotARemoval) {
  GlitchyReader glitchy;
  reader::SimReader& sim = glitchy.sim;
  EventLog log;
  reader::ReaderSupervisor sup(
      glitchy, [&](const ReaderEvent& e, reader::Reader*) { log.push(e); }, fastOptions());
  sup.start();
  reader::CardImage card;
  card.uid = std::string("\x04\x01\x02\x03\x04\x05\x06", 7);
  card.pages = std::string(180, 'p');
  sim.tap(card);
  ASSERT_TRUE(log.waitFor(Kind::CardArrived));
  std::this_thread::sleep_for(300ms);  // many presence checks, one glitch among them
  EXPECT_EQ(log.countOf(Kind::CardRemoved), 0u);
  sim.remove();
  ASSERT_TRUE(log.waitFor(Kind::CardRemoved));  // a real removal still is one
  stopBounded(sup);
}

TEST(ReaderSupervisorSim, StopEndsAnIdleWait) {
  reader::SimReader sim;
  reader::SupervisorOptions o = fastOptions();
  o.wait_slice = 60s;  // only abort() can end this wait
  reader::ReaderSupervisor sup(sim, nullptr, o);
  sup.start();
  std::this_thread::sleep_for(50ms);
  stopBounded(sup);
}

TEST(ReaderSupervisorLibnfc, ReopensAReplacedReaderBehindTheSamePath) {
  TempDir dir;
  const auto link = dir.path() / "reader";
  auto first = Pn532Emulator::start();
  ASSERT_TRUE(first);
  std::filesystem::create_symlink((*first)->path(), link);

  reader::LibnfcReader r(reader::LibnfcOptions{.connstring = "pn532_uart:" + link.string()});
  EventLog log;
  std::optional<reader::Chip> chipSeen;
  reader::ReaderSupervisor sup(
      r,
      [&](const ReaderEvent& e, reader::Reader*) {
        if (e.kind == Kind::CardArrived) chipSeen = e.card->chip;
        log.push(e);
      },
      fastOptions());
  sup.start();

  (*first)->insert(ntag());
  ASSERT_TRUE(log.waitFor(Kind::CardArrived));
  EXPECT_EQ(chipSeen, reader::Chip::Ntag213);
  (*first)->remove();
  ASSERT_TRUE(log.waitFor(Kind::CardRemoved));

  (*first)->insert(ntag());
  ASSERT_TRUE(log.waitFor(Kind::CardArrived, 2));
  (*first)->unplug();  // pulled out with a card on it
  ASSERT_TRUE(log.waitFor(Kind::ReaderLost));
  EXPECT_EQ(log.countOf(Kind::CardRemoved), 2u);

  // Plugged back in: a new device node, found again through the same path.
  auto second = Pn532Emulator::start();
  ASSERT_TRUE(second);
  std::filesystem::remove(link);
  std::filesystem::create_symlink((*second)->path(), link);
  ASSERT_TRUE(log.waitFor(Kind::ReaderBack));
  (*second)->insert(ntag(TagKind::Ntag215));
  ASSERT_TRUE(log.waitFor(Kind::CardArrived, 3));
  EXPECT_EQ(chipSeen, reader::Chip::Ntag215);
  stopBounded(sup);
  EXPECT_EQ(log.countOf(Kind::ReaderLost), 1u);
}

}  // namespace
}  // namespace kb::test
