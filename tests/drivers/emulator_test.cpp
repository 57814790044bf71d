// The emulator's host link, byte by byte: what libnfc alone would not exercise
// (wake-up rule, extended frames, NACK, abort by ACK, bad checksums, syntax errors).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "drivers_test_util.h"

namespace kb::test {
namespace {

using namespace std::chrono_literals;

const std::string kAck("\x00\x00\xff\x00\xff\x00", 6);

std::string frame(std::string_view cmd) {  // host information frame, normal or extended
  std::string body(1, '\xd4');  // not "\xd4" + ...: GCC 12 -O3 false -Wrestrict (bug 105329)
  body += cmd;
  unsigned sum = 0;
  for (char c : body) sum += static_cast<unsigned char>(c);
  std::string f("\x00\x00\xff", 3);
  if (body.size() < 255) {
    f += static_cast<char>(body.size());
    f += static_cast<char>(0x100 - body.size());
  } else {
    const auto hi = static_cast<unsigned>(body.size() >> 8),
               lo = static_cast<unsigned>(body.size() & 0xff);
    f += std::string("\xff\xff", 2);
    f += static_cast<char>(hi);
    f += static_cast<char>(lo);
    f += static_cast<char>(0x100 - ((hi + lo) & 0xff));
  }
  return f + body + static_cast<char>((0x100 - (sum & 0xff)) & 0xff) + '\0';
}

class EmulatorWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Pn532Emulator::start();
    ASSERT_TRUE(e);
    emu_ = std::move(*e);
    fd_ = ::open(emu_->path().c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(fd_, 0);
    termios t{};
    ::tcgetattr(fd_, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(fd_, TCSANOW, &t);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void put(const std::string& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // Everything the emulator sends until it is quiet for `quiet`.
  std::string get(std::chrono::milliseconds quiet = 300ms) {
    std::string out;
    char buf[1024];
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(quiet.count())) > 0) {
      const auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  std::unique_ptr<Pn532Emulator> emu_;
  int fd_ = -1;
};

const std::string kWake("\x55\x55\x00\x00\x00", 5);

TEST_F(EmulatorWireTest, IgnoresFramesUntilWokenUp) {
  put(frame("\x02"));
  EXPECT_EQ(get(), "");
  put(kWake + frame("\x02"));
  EXPECT_EQ(get(), kAck + std::string("\x00\x00\xff\x06\xfa\xd5\x03\x32\x01\x06\x07\xe8\x00", 13));
}

TEST_F(EmulatorWireTest, BadChecksumIsDroppedAndNackRepeats) {
  put(kWake);
  auto bad = frame("\x02");
  bad[bad.size() - 2] ^= 0x01;
  put(bad);
  EXPECT_EQ(get(), "");
  put(frame("\x02"));
  const auto answer = get();
  ASSERT_EQ(answer.substr(0, 6), kAck);
  put(std::string("\x00\x00\xff\xff\x00\x00", 6));  // NACK
  EXPECT_EQ(get(), answer.substr(6));
}

TEST_F(EmulatorWireTest, UnknownCommandGetsSyntaxErrorFrame) {
  put(kWake + frame("\x7e"));
  EXPECT_EQ(get(), kAck + std::string("\x00\x00\xff\x01\xff\x7f\x81\x00", 8));
}

TEST_F(EmulatorWireTest, ExtendedFramesBothWays) {
  emu_->insert(ntag(TagKind::Ntag216));
  put(kWake + frame(std::string("\x4a\x01\x00", 3)));
  ASSERT_NE(get().find("\xd5\x4b\x01", 0), std::string::npos);
  // FAST_READ of 100 pages: a 403-byte answer needs an extended frame.
  const std::string fastRead("\x40\x01\x3a\x00\x63", 5);
  // The same command sent as an extended frame (padding is not allowed, so force it).
  std::string body(1, '\xd4');  // not "\xd4" + ...: GCC 12 -O3 false -Wrestrict (bug 105329)
  body += fastRead;
  std::string ext("\x00\x00\xff\xff\xff\x00", 6);
  ext += static_cast<char>(body.size());
  ext += static_cast<char>(0x100 - body.size());
  unsigned sum = 0;
  for (char c : body) sum += static_cast<unsigned char>(c);
  ext += body + static_cast<char>((0x100 - (sum & 0xff)) & 0xff) + '\0';
  put(ext);
  const auto answer = get();
  ASSERT_GE(answer.size(), 6u + 8u + 403u + 2u);
  EXPECT_EQ(answer.substr(6, 5), std::string("\x00\x00\xff\xff\xff", 5));
  const auto len =
      (static_cast<unsigned char>(answer[11]) << 8) | static_cast<unsigned char>(answer[12]);
  EXPECT_EQ(len, 2 + 1 + 400);  // TFI, command, status, 100 pages
  EXPECT_EQ(answer.substr(17, 400), patternImage(TagKind::Ntag216).substr(0, 400));
}

TEST_F(EmulatorWireTest, HostAckAbortsAPollWaitingForACard) {
  put(kWake + frame(std::string("\x32\x05\xff\xff\xff", 5)));  // infinite passive retries
  get();
  put(frame(std::string("\x4a\x01\x00", 3)));
  EXPECT_EQ(get(), kAck);  // waiting for a card
  put(kAck);               // abort
  get();
  emu_->insert(ntag());
  EXPECT_EQ(get(), "");  // the aborted poll does not answer late
}

TEST_F(EmulatorWireTest, PollWaitingForACardAnswersWhenOneComes) {
  put(kWake + frame(std::string("\x32\x05\xff\xff\xff", 5)));
  get();
  put(frame(std::string("\x4a\x01\x00", 3)));
  EXPECT_EQ(get(), kAck);
  emu_->insert(ntag());
  EXPECT_NE(get().find(std::string("\xd5\x4b\x01\x01\x00\x44\x00\x07", 8)), std::string::npos);
}

TEST(NtagImage, UidAndCheckBytes) {
  const auto image = blankNtagImage(TagKind::Ntag213, kUid);
  ASSERT_EQ(image.size(), 180u);
  EXPECT_EQ(static_cast<unsigned char>(image[3]), 0x88 ^ 0x04 ^ 0x11 ^ 0x22);
  EXPECT_EQ(static_cast<unsigned char>(image[8]), 0x33 ^ 0x44 ^ 0x55 ^ 0x66);
  EXPECT_EQ(image.substr(12, 4), std::string("\xe1\x10\x12\x00", 4));
  EXPECT_EQ(blankNtagImage(TagKind::Ntag215, kUid).size(), 540u);
  EXPECT_EQ(blankNtagImage(TagKind::Ntag216, kUid).size(), 924u);
}

}  // namespace
}  // namespace kb::test
