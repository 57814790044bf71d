#include "sim/sim_reader.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "reader.h"

namespace kb::reader {
namespace {

using namespace std::chrono_literals;

CardImage image() {
  CardImage c;
  c.uid = std::string("\x04\x01\x02\x03\x04\x05\x06", 7);
  c.chip = Chip::Ntag213;
  for (int i = 0; i < 45 * 4; ++i) c.pages += static_cast<char>(i);
  c.signature = std::string(32, 's');
  return c;
}

TEST(SimReader, ChipNames) {
  EXPECT_EQ(chipName(Chip::Ntag213), "ntag213");
  EXPECT_EQ(chipName(Chip::Ntag216), "ntag216");
  EXPECT_EQ(chipName(Chip::Unknown), "unknown");
}

TEST(SimReader, WaitTimesOutWithoutCard) {
  SimReader r;
  ASSERT_TRUE(r.open());
  auto c = r.waitForCard(20ms);
  ASSERT_TRUE(c) << c.error().message;  // no card is a value, not an error
  EXPECT_FALSE(c->has_value());
}

TEST(SimReader, TapWakesAWaitAndServesTheImage) {
  SimReader r;
  ASSERT_TRUE(r.open());
  auto fut = std::async(std::launch::async, [&] { return r.waitForCard(10s); });
  std::this_thread::sleep_for(20ms);
  r.tap(image());
  auto c = fut.get();
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->uid, image().uid);
  EXPECT_EQ((*c)->chip, Chip::Ntag213);
  auto pages = r.readPages(4, 2);
  ASSERT_TRUE(pages);
  EXPECT_EQ(*pages, image().pages.substr(16, 8));
  auto sig = r.readSignature();
  ASSERT_TRUE(sig);
  EXPECT_EQ(*sig, image().signature);
  EXPECT_FALSE(r.readPages(44, 2));
}

TEST(SimReader, CardLyingOnTheReaderIsReportedOnce) {
  SimReader r;
  ASSERT_TRUE(r.open());
  r.tap(image());
  ASSERT_TRUE(r.waitForCard(1s).value_or(std::nullopt));
  auto again = r.waitForCard(20ms);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->has_value());
  r.tap(image());  // lifted and placed again
  EXPECT_TRUE(r.waitForCard(1s).value_or(std::nullopt));
}

TEST(SimReader, RemovalAndReadAfterRemoval) {
  SimReader r;
  ASSERT_TRUE(r.open());
  r.tap(image());
  ASSERT_TRUE(r.waitForCard(1s).value_or(std::nullopt));
  EXPECT_TRUE(*r.cardPresent());
  r.remove();
  EXPECT_FALSE(*r.cardPresent());
  auto pages = r.readPages(0, 4);
  ASSERT_FALSE(pages);
  EXPECT_EQ(pages.error().code, ReaderErrc::ReadError);
}

TEST(SimReader, WritesChangeTheImage) {
  SimReader r;
  ASSERT_TRUE(r.open());
  r.tap(image());
  ASSERT_TRUE(r.waitForCard(1s).value_or(std::nullopt));
  ASSERT_TRUE(r.writePages(4, "abcd"));
  EXPECT_EQ(r.current()->pages.substr(16, 4), "abcd");
  EXPECT_FALSE(r.writePages(0, "abcd"));
  EXPECT_FALSE(r.writePages(4, "abc"));
}

TEST(SimReader, UnplugIsReaderLostUntilReplug) {
  SimReader r;
  ASSERT_TRUE(r.open());
  auto fut = std::async(std::launch::async, [&] { return r.waitForCard(10s); });
  std::this_thread::sleep_for(20ms);
  r.unplug();
  auto c = fut.get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ReaderErrc::ReaderLost);
  r.close();
  EXPECT_FALSE(r.open());
  r.replug();
  EXPECT_TRUE(r.open());
}

TEST(SimReader, AbortEndsAWait) {
  SimReader r;
  ASSERT_TRUE(r.open());
  auto fut = std::async(std::launch::async, [&] { return r.waitForCard(60s); });
  std::this_thread::sleep_for(20ms);
  r.abort();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto c = fut.get();
  ASSERT_TRUE(c) << c.error().message;  // an aborted wait is "no card", not an error
  EXPECT_FALSE(c->has_value());
}

}  // namespace
}  // namespace kb::reader
