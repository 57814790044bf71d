// The kelurahan operator's PIN and session logic: the scrypt hash
// (crypto/pin.h) and the gate's lockout and session timeout (web/operator_gate.h),
// with time passed in so no test waits or reads the clock.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/pin.h"
#include "web/operator_gate.h"

namespace kb {
namespace {

using namespace std::chrono_literals;
using web::GateOptions;
using web::OperatorGate;
using Outcome = OperatorGate::Outcome;

const std::string& storedHash() {  // scrypt is slow on purpose: hash once
  static const std::string h = *crypto::hashPin("246810");
  return h;
}

TEST(OperatorPin, HashVerifiesTheRightPinOnly) {
  const std::string& h = storedHash();
  EXPECT_TRUE(h.starts_with("scrypt$32768$8$1$")) << h;
  EXPECT_TRUE(crypto::checkPinHash(h));
  EXPECT_EQ(crypto::verifyPin(h, "246810"), true);
  EXPECT_EQ(crypto::verifyPin(h, "246811"), false);
  EXPECT_EQ(crypto::verifyPin(h, "2468100"), false);
  EXPECT_EQ(crypto::verifyPin(h, ""), false);
  EXPECT_EQ(crypto::verifyPin(h, "abcdef"), false);
  EXPECT_EQ(h.find("246810"), std::string::npos);  // the PIN is not in its hash
}

TEST(OperatorPin, SaltIsFreshEachTime) {
  auto again = crypto::hashPin("246810");
  ASSERT_TRUE(again);
  EXPECT_NE(*again, storedHash());
  EXPECT_EQ(crypto::verifyPin(*again, "246810"), true);
}

TEST(OperatorPin, PinFormatIsSixToTwelveDigits) {
  EXPECT_TRUE(crypto::checkPinFormat("123456"));
  EXPECT_TRUE(crypto::checkPinFormat("123456789012"));
  for (const char* bad : {"12345", "1234567890123", "12345a", " 123456", "１２３４５６"}) {
    auto r = crypto::checkPinFormat(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Usage);
    EXPECT_FALSE(crypto::hashPin(bad)) << bad;
  }
}

TEST(OperatorPin, MalformedOrWeakHashesAreConfigErrors) {
  const std::string salt(32, 'a'), key(64, 'b');
  for (const std::string& bad : std::vector<std::string>{
           std::string(""), std::string("plain"), "pbkdf2$1$8$1$" + salt + "$" + key,
           "scrypt$1024$8$1$" + salt + "$" + key,   // N far too small
           "scrypt$30000$8$1$" + salt + "$" + key,  // not a power of two
           "scrypt$32768$1$1$" + salt + "$" + key,  // r too small
           "scrypt$32768$8$1$abcd$" + key,          // salt too short
           "scrypt$32768$8$1$" + salt + "$" + key.substr(2), "scrypt$32768$8$1$" + salt + "$zz",
           "scrypt$32768$8$x$" + salt + "$" + key}) {
    auto r = crypto::checkPinHash(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Config) << bad;
    EXPECT_FALSE(crypto::verifyPin(bad, "246810")) << bad;
  }
}

struct GateTest : ::testing::Test {
  OperatorGate::Clock::time_point t0{std::chrono::hours(1000)};
  GateOptions options() {
    GateOptions o;
    o.max_failures = 3;
    o.lockout = 60s;
    o.max_lockout = 200s;
    o.session = 120s;
    return o;
  }
};

TEST_F(GateTest, WrongPinsCountDownThenLockEvenTheRightPinOut) {
  OperatorGate gate(storedHash(), options());
  auto a = gate.login("111111", t0);
  EXPECT_EQ(a.outcome, Outcome::Wrong);
  EXPECT_EQ(a.attempts_left, 2);
  EXPECT_TRUE(a.token.empty());
  EXPECT_EQ(gate.login("222222", t0 + 1s).attempts_left, 1);
  a = gate.login("333333", t0 + 2s);
  EXPECT_EQ(a.outcome, Outcome::LockedOut);
  EXPECT_EQ(a.retry_after_s, 60);
  // Locked: the right PIN is refused too, and nothing is hashed.
  a = gate.login("246810", t0 + 30s);
  EXPECT_EQ(a.outcome, Outcome::LockedOut);
  EXPECT_EQ(a.retry_after_s, 32);
  // After the lockout one more wrong PIN locks again, for twice as long.
  a = gate.login("444444", t0 + 63s);
  EXPECT_EQ(a.outcome, Outcome::LockedOut);
  EXPECT_EQ(a.retry_after_s, 120);
  a = gate.login("555555", t0 + 63s + 121s);
  EXPECT_EQ(a.retry_after_s, 200);  // capped at max_lockout
  // The right PIN after the lockout opens a session and resets the count.
  a = gate.login("246810", t0 + 63s + 121s + 201s);
  ASSERT_EQ(a.outcome, Outcome::Ok);
  EXPECT_EQ(a.token.size(), 64u);
  EXPECT_EQ(gate.login("666666", t0 + 500s).attempts_left, 2);
}

TEST_F(GateTest, SessionEndsAfterItsQuietPeriodAndOnLogout) {
  OperatorGate gate(storedHash(), options());
  auto a = gate.login("246810", t0);
  ASSERT_EQ(a.outcome, Outcome::Ok);
  EXPECT_TRUE(gate.check(a.token, t0 + 100s));  // use restarts the quiet period
  EXPECT_EQ(gate.sessionLeft(a.token, t0 + 100s), 120);
  EXPECT_TRUE(gate.check(a.token, t0 + 219s));
  EXPECT_FALSE(gate.check(a.token, t0 + 219s + 120s));  // quiet for the whole period
  EXPECT_EQ(gate.sessionLeft(a.token, t0 + 400s), 0);
  auto b = gate.login("246810", t0 + 400s);
  ASSERT_EQ(b.outcome, Outcome::Ok);
  EXPECT_NE(b.token, a.token);
  EXPECT_FALSE(gate.check(a.token, t0 + 401s));
  EXPECT_FALSE(gate.check("", t0 + 401s));
  EXPECT_FALSE(gate.check(b.token.substr(1), t0 + 401s));
  gate.logout(b.token);
  EXPECT_FALSE(gate.check(b.token, t0 + 402s));
}

TEST_F(GateTest, OneSessionAtATime) {
  OperatorGate gate(storedHash(), options());
  auto a = gate.login("246810", t0);
  auto b = gate.login("246810", t0 + 1s);
  ASSERT_EQ(b.outcome, Outcome::Ok);
  EXPECT_FALSE(gate.check(a.token, t0 + 2s));
  EXPECT_TRUE(gate.check(b.token, t0 + 2s));
}

TEST_F(GateTest, WithoutAHashNobodyGetsIn) {
  OperatorGate gate("", options());
  EXPECT_FALSE(gate.configured());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(gate.login("246810", t0).outcome, Outcome::Wrong);
  EXPECT_FALSE(gate.check("", t0));
}

}  // namespace
}  // namespace kb
