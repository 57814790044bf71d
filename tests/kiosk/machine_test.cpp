#include "kiosk/machine.h"

#include <gtest/gtest.h>

namespace kb::kiosk {
namespace {

using namespace std::chrono_literals;

cache::Verdict verdictOf(cache::VerdictCode verdict,
                         cache::Freshness freshness = cache::Freshness::Fresh) {
  cache::Verdict v;
  v.verdict = verdict;
  v.freshness = freshness;
  v.snapshot = cache::SnapshotInfo{3, 1795136400, 1797728400};  // 2026-11-20/12-20 01:00 UTC
  v.age_seconds = 97200;
  roster::CardRecord card;
  card.card_no = "KB-1571-0000042";
  card.status = "active";
  card.holder = "SIT* NUR*****";
  card.category = "pekerja_rentan";
  card.kelurahan = "Telanaipura";
  card.rt = "007";
  roster::Coverage jkk;
  jkk.program = "JKK";
  jkk.status = "active";
  card.coverages = {jkk};
  v.card = card;
  v.active_today = {true};
  return v;
}

TapOutcome genuine(cache::VerdictCode verdict,
                   cache::Freshness freshness = cache::Freshness::Fresh) {
  return TapOutcome{card::CardCheck::Genuine, card::Originality::Valid,
                    verdictOf(verdict, freshness), false};
}

class MachineTest : public ::testing::Test {
 protected:
  Timeouts timeouts{20s, 90s, 15s};
  Machine m{timeouts, "sim", false, "https://example.go.id/panduan"};
  TimePoint t0 = TimePoint{} + 1000h;

  void showStatus(TimePoint at) {
    ASSERT_TRUE(m.cardArrived(at));
    ASSERT_TRUE(m.tapResolved(genuine(cache::VerdictCode::Active), at + 50ms));
    ASSERT_EQ(m.screen(), Screen::Status);
  }
};

TEST_F(MachineTest, StartsIdleWithEveryFieldPresent) {
  auto j = m.toJson();
  for (auto key : {"seq", "screen", "error", "guidance", "tap", "verdict", "freshness",
                   "card_check", "originality", "reader", "data", "demo", "public_guidance_url"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["screen"], "idle");
  EXPECT_TRUE(j["tap"].is_null());
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["reader"]["status"], "ready");
  EXPECT_EQ(j["reader"]["driver"], "sim");
  EXPECT_EQ(j["data"]["freshness"], "NONE");
  EXPECT_EQ(j["demo"], false);
  EXPECT_FALSE(m.deadline());
}

TEST_F(MachineTest, TapShowsStatusWithTheVerdictDocumentAndCardCheck) {
  auto seq = m.seq();
  ASSERT_TRUE(m.cardArrived(t0));
  EXPECT_EQ(m.toJson()["screen"], "reading");
  EXPECT_GT(m.seq(), seq);
  ASSERT_TRUE(m.tapResolved(genuine(cache::VerdictCode::Inactive), t0 + 40ms));
  auto j = m.toJson();
  EXPECT_EQ(j["screen"], "status");
  EXPECT_EQ(j["tap"]["verdict"], "INACTIVE");
  EXPECT_EQ(j["tap"]["card_check"], "GENUINE");
  EXPECT_EQ(j["tap"]["originality"], "VALID");
  EXPECT_EQ(j["tap"]["card"]["holder"], "SIT* NUR*****");
  EXPECT_EQ(j["verdict"], "INACTIVE");
  EXPECT_EQ(j["card_check"], "GENUINE");
}

TEST_F(MachineTest, RemovalReturnsToIdleAfterTheRemovalTimeoutAndForgetsTheTap) {
  showStatus(t0);
  EXPECT_FALSE(m.cardRemoved(t0 + 1s));
  ASSERT_TRUE(m.deadline());
  EXPECT_EQ(*m.deadline(), t0 + 1s + 20s);
  EXPECT_FALSE(m.expire(t0 + 20s));
  EXPECT_EQ(m.screen(), Screen::Status);
  EXPECT_TRUE(m.expire(t0 + 21s));
  auto j = m.toJson();
  EXPECT_EQ(j["screen"], "idle");
  EXPECT_TRUE(j["tap"].is_null());
  EXPECT_TRUE(j["verdict"].is_null());
  EXPECT_TRUE(j["card_check"].is_null());
  EXPECT_TRUE(j["guidance"].is_null());
  // Privacy: nothing of the person is left anywhere in the document.
  auto text = j.dump();
  EXPECT_EQ(text.find("KB-1571"), std::string::npos);
  EXPECT_EQ(text.find("SIT*"), std::string::npos);
  EXPECT_EQ(text.find("Telanaipura"), std::string::npos);
}

TEST_F(MachineTest, NoTouchReturnsToIdleEvenWithTheCardLeftOnTheReader) {
  showStatus(t0);
  EXPECT_EQ(*m.deadline(), t0 + 50ms + 90s);
  EXPECT_FALSE(m.action({UiAction::Kind::Touch, ""}, t0 + 60s));  // a touch is not a visible change
  EXPECT_EQ(*m.deadline(), t0 + 60s + 90s);
  EXPECT_FALSE(m.expire(t0 + 149s));
  EXPECT_TRUE(m.expire(t0 + 150s));
  EXPECT_EQ(m.screen(), Screen::Idle);
}

TEST_F(MachineTest, GuidanceBackAndDone) {
  showStatus(t0);
  EXPECT_TRUE(m.action({UiAction::Kind::Guidance, "JKK"}, t0 + 1s));
  EXPECT_EQ(m.toJson()["screen"], "guidance");
  EXPECT_EQ(m.toJson()["guidance"], "JKK");
  EXPECT_EQ(m.toJson()["tap"]["verdict"], "ACTIVE");
  EXPECT_FALSE(m.action({UiAction::Kind::Guidance, "JKK"}, t0 + 2s));  // same choice: no change
  EXPECT_TRUE(m.action({UiAction::Kind::Guidance, "JKN"}, t0 + 2s));
  EXPECT_TRUE(m.action({UiAction::Kind::Back, ""}, t0 + 3s));
  EXPECT_EQ(m.toJson()["screen"], "status");
  EXPECT_TRUE(m.toJson()["guidance"].is_null());
  EXPECT_FALSE(m.action({UiAction::Kind::Back, ""}, t0 + 4s));  // back from status: nothing
  EXPECT_TRUE(m.action({UiAction::Kind::Done, ""}, t0 + 5s));
  EXPECT_EQ(m.screen(), Screen::Idle);
  EXPECT_TRUE(m.toJson()["tap"].is_null());
  EXPECT_FALSE(m.action({UiAction::Kind::Done, ""}, t0 + 6s));
  EXPECT_FALSE(m.action({UiAction::Kind::Guidance, "JKK"}, t0 + 7s));  // no guidance without a tap
}

TEST_F(MachineTest, GuidanceStaysOpenWhileTouchedAfterRemoval) {
  showStatus(t0);
  m.action({UiAction::Kind::Guidance, "JKM"}, t0 + 1s);
  m.cardRemoved(t0 + 2s);
  m.action({UiAction::Kind::Touch, ""}, t0 + 15s);
  EXPECT_FALSE(m.expire(t0 + 22s));  // removal + 20 s passed, but touched since
  EXPECT_EQ(m.screen(), Screen::Guidance);
  EXPECT_EQ(*m.deadline(), t0 + 35s);
  EXPECT_TRUE(m.expire(t0 + 35s));
  EXPECT_EQ(m.screen(), Screen::Idle);
}

TEST_F(MachineTest, StatusIgnoresTouchesAfterRemoval) {
  showStatus(t0);
  m.cardRemoved(t0 + 2s);
  m.action({UiAction::Kind::Touch, ""}, t0 + 15s);
  EXPECT_TRUE(m.expire(t0 + 22s));
}

TEST_F(MachineTest, ErrorScreensLeaveAfterTheErrorTimeoutOrSoonAfterRemoval) {
  m.cardArrived(t0);
  m.tapResolved(genuine(cache::VerdictCode::Blocked), t0 + 10ms);
  EXPECT_EQ(m.toJson()["error"], "BLOCKED");
  EXPECT_TRUE(m.toJson()["tap"].is_null());  // nothing personal on an error screen
  // ...but what the tap resolved to is reported (contracts: the kiosk API reports verdicts).
  EXPECT_EQ(m.toJson()["verdict"], "BLOCKED");
  EXPECT_EQ(m.toJson()["card_check"], "GENUINE");
  EXPECT_EQ(m.toJson()["originality"], "VALID");
  EXPECT_EQ(*m.deadline(), t0 + 10ms + 15s);
  EXPECT_TRUE(m.expire(t0 + 10ms + 15s));

  Machine quick{{1500ms, 90s, 15s}, "sim", true, "u"};
  quick.cardArrived(t0);
  quick.tapResolved(
      TapOutcome{card::CardCheck::Cloned, card::Originality::Invalid, std::nullopt, false},
      t0 + 10ms);
  EXPECT_EQ(quick.toJson()["error"], "CANNOT_VERIFY_CARD");
  EXPECT_EQ(quick.toJson()["card_check"], "CLONED");
  EXPECT_EQ(quick.toJson()["originality"], "INVALID");
  EXPECT_TRUE(quick.toJson()["verdict"].is_null());  // a clone is never looked up
  EXPECT_TRUE(quick.toJson()["tap"].is_null());
  quick.cardRemoved(t0 + 1s);
  EXPECT_EQ(*quick.deadline(), t0 + 2500ms);
  EXPECT_TRUE(quick.expire(t0 + 2500ms));
  EXPECT_EQ(quick.screen(), Screen::Idle);
}

TEST_F(MachineTest, ReadErrorAfterThePullIsStillShown) {
  m.cardArrived(t0);
  m.cardRemoved(t0 + 20ms);  // the card left mid-read; the read result follows
  ASSERT_TRUE(m.tapResolved(TapOutcome{}, t0 + 30ms));
  EXPECT_EQ(m.toJson()["error"], "READ_ERROR");
  EXPECT_FALSE(m.expire(t0 + 1s));
  EXPECT_EQ(*m.deadline(), t0 + 30ms + 15s);  // min(error 15 s, shown + removal 20 s)
}

TEST_F(MachineTest, ReaderLostHoldsUntilBackAndDropsTheTap) {
  showStatus(t0);
  ASSERT_TRUE(m.readerLost(t0 + 1s));
  auto j = m.toJson();
  EXPECT_EQ(j["screen"], "error");
  EXPECT_EQ(j["error"], "READER_LOST");
  EXPECT_EQ(j["reader"]["status"], "lost");
  EXPECT_TRUE(j["tap"].is_null());
  EXPECT_TRUE(j["card_check"].is_null());
  EXPECT_FALSE(m.deadline());
  EXPECT_FALSE(m.expire(t0 + 1000h));
  EXPECT_FALSE(m.readerLost(t0 + 2s));
  EXPECT_FALSE(m.action({UiAction::Kind::Done, ""}, t0 + 3s));
  ASSERT_TRUE(m.readerBack(t0 + 4s));
  EXPECT_EQ(m.screen(), Screen::Idle);
  EXPECT_EQ(m.toJson()["reader"]["status"], "ready");
  EXPECT_FALSE(m.readerBack(t0 + 5s));
}

TEST_F(MachineTest, ALateReadResultIsIgnored) {
  m.cardArrived(t0);
  m.readerLost(t0 + 1ms);
  EXPECT_FALSE(m.tapResolved(genuine(cache::VerdictCode::Active), t0 + 2ms));
  EXPECT_EQ(m.toJson()["error"], "READER_LOST");
}

TEST_F(MachineTest, AReadThatNeverResolvesTimesOut) {
  m.cardArrived(t0);
  EXPECT_EQ(*m.deadline(), t0 + 15s);
  EXPECT_TRUE(m.expire(t0 + 15s));
  EXPECT_EQ(m.screen(), Screen::Idle);
}

TEST_F(MachineTest, DataChangesBumpSeqOnlyWhenDifferent) {
  auto data = m.toJson()["data"];
  EXPECT_FALSE(m.setData(data));
  data["freshness"] = "FRESH";
  auto seq = m.seq();
  EXPECT_TRUE(m.setData(data));
  EXPECT_EQ(m.seq(), seq + 1);
  EXPECT_EQ(m.toJson()["data"]["freshness"], "FRESH");
}

TEST(Classify, EveryOutcomeMapsToItsScreen) {
  struct Case {
    TapOutcome outcome;
    Screen screen;
    std::optional<std::string> error;
  };
  const std::vector<Case> cases = {
      {genuine(cache::VerdictCode::Active), Screen::Status, std::nullopt},
      {genuine(cache::VerdictCode::Active, cache::Freshness::Stale), Screen::Status, std::nullopt},
      {genuine(cache::VerdictCode::Inactive), Screen::Status, std::nullopt},
      {genuine(cache::VerdictCode::Blocked), Screen::Error, "BLOCKED"},
      {genuine(cache::VerdictCode::NotFound), Screen::Error, "NOT_FOUND"},
      {genuine(cache::VerdictCode::Unverifiable, cache::Freshness::Expired), Screen::Error,
       "DATA_TOO_OLD"},
      {genuine(cache::VerdictCode::Unverifiable, cache::Freshness::Fresh), Screen::Error,
       "CANNOT_VERIFY_CARD"},  // tampered row
      {TapOutcome{card::CardCheck::Genuine, card::Originality::Valid, std::nullopt, true},
       Screen::Error, "NO_DATA"},
      {TapOutcome{card::CardCheck::ReadError, card::Originality::NotSupported, std::nullopt, false},
       Screen::Error, "READ_ERROR"},
      {TapOutcome{card::CardCheck::UnknownFormat, card::Originality::NotSupported, std::nullopt,
                  false},
       Screen::Error, "NOT_KARTU_BAHAGIA"},
      {TapOutcome{card::CardCheck::Cloned, card::Originality::Invalid, std::nullopt, false},
       Screen::Error, "CANNOT_VERIFY_CARD"},
      {TapOutcome{card::CardCheck::Forged, card::Originality::Valid, std::nullopt, false},
       Screen::Error, "CANNOT_VERIFY_CARD"},
  };
  for (const auto& c : cases) {
    auto choice = classify(c.outcome);
    EXPECT_EQ(choice.screen, c.screen)
        << card::cardCheckName(c.outcome.card_check) << " "
        << (c.outcome.verdict ? cache::verdictName(c.outcome.verdict->verdict) : "-");
    EXPECT_EQ(choice.error, c.error)
        << card::cardCheckName(c.outcome.card_check) << " "
        << (c.outcome.verdict ? cache::verdictName(c.outcome.verdict->verdict) : "-");
  }
}

TEST(ParseAction, AcceptsTheFourActionsOnly) {
  auto g = parseAction(R"({"action":"guidance","program":"JKN"})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, UiAction::Kind::Guidance);
  EXPECT_EQ(g->program, "JKN");
  EXPECT_EQ(parseAction(R"({"action":"back"})")->kind, UiAction::Kind::Back);
  EXPECT_EQ(parseAction(R"({"action":"done"})")->kind, UiAction::Kind::Done);
  EXPECT_EQ(parseAction(R"({"action":"touch"})")->kind, UiAction::Kind::Touch);
  for (auto bad : {R"({"action":"guidance","program":"JHT"})", R"({"action":"guidance"})",
                   R"({"action":"reboot"})", R"({"action":5})", R"([1,2])", "not json", ""})
    EXPECT_FALSE(parseAction(bad)) << bad;
}

}  // namespace
}  // namespace kb::kiosk
