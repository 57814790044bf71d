#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kb::config {
namespace {

std::string parseError(std::string_view text) {
  auto r = parse(text, "kiosk.conf");
  if (r) return "accepted";
  EXPECT_EQ(r.error().code, Errc::Config);
  return r.error().message;
}

TEST(Config, DefaultsWhenEmpty) {
  auto c = parse("", "kiosk.conf");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->removal_timeout_ms, 20000);
  EXPECT_EQ(c->idle_timeout_ms, 90000);
  EXPECT_EQ(c->error_timeout_ms, 15000);
  EXPECT_EQ(c->reader, "auto");
  EXPECT_EQ(c->dbPath(), "/var/lib/kartu-bahagia/cache.db");
}

TEST(Config, ParsesEveryKeyWithCommentsAndBlankLines) {
  auto c = parse(
      "\xEF\xBB\xBF# kiosk at Kelurahan Telanaipura\n"
      "roles = kiosk\r\n"
      "\n"
      "listen = 127.0.0.1:9090\n"
      "state_dir = /srv/kb\n"
      "db = /srv/kb/other.db\n"
      "root = /etc/kb/root.json\n"
      "reader = pn532_uart:/dev/ttyUSB0   # the USB-serial board\n"
      "originality_key = 04494E1A\n"
      "soft_age_hours = 24\n"
      "grace_days = 0\n"
      "removal_timeout_ms = 1500\n"
      "idle_timeout_ms = 60000\n"
      "error_timeout_ms = 100\n"
      "ui_dir = /usr/share/kb/ui\n"
      "public_guidance_url = https://example.go.id/panduan/\n"
      "  log_level=debug  \n",
      "kiosk.conf");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->roles, (std::vector<std::string>{"kiosk"}));
  EXPECT_EQ(c->listen_port, 9090);
  EXPECT_EQ(c->dbPath(), "/srv/kb/other.db");
  EXPECT_EQ(c->reader, "pn532_uart:/dev/ttyUSB0");
  EXPECT_EQ(c->originality_key, "04494E1A");
  EXPECT_EQ(c->soft_age_hours, 24);
  EXPECT_EQ(c->grace_days, 0);
  EXPECT_EQ(c->removal_timeout_ms, 1500);
  EXPECT_EQ(c->error_timeout_ms, 100);
  EXPECT_EQ(c->public_guidance_url, "https://example.go.id/panduan");  // trailing '/' dropped
  EXPECT_EQ(c->log_level, "debug");
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(parseError("# ok\n\ncolour = blue\n"), "kiosk.conf:3: colour: unknown key");
  EXPECT_EQ(parseError("reader = sim\nreader = auto\n"), "kiosk.conf:2: reader: duplicate key");
  EXPECT_EQ(parseError("just words\n"), "kiosk.conf:1: just words: expected key = value");
  EXPECT_EQ(parseError("= 3\n"), "kiosk.conf:1: -: missing key before '='");
}

TEST(Config, IntegersAreCheckedForFormAndRange) {
  EXPECT_EQ(parseError("idle_timeout_ms = soon\n"),
            "kiosk.conf:1: idle_timeout_ms: not an integer: 'soon'");
  EXPECT_EQ(parseError("idle_timeout_ms = 90s\n"),
            "kiosk.conf:1: idle_timeout_ms: not an integer: '90s'");
  EXPECT_EQ(parseError("idle_timeout_ms =\n"), "kiosk.conf:1: idle_timeout_ms: not an integer: ''");
  EXPECT_EQ(parseError("removal_timeout_ms = 99\n"),
            "kiosk.conf:1: removal_timeout_ms: must be between 100 and 600000");
  EXPECT_EQ(parseError("error_timeout_ms = 600001\n"),
            "kiosk.conf:1: error_timeout_ms: must be between 100 and 600000");
  EXPECT_EQ(parseError("soft_age_hours = 0\n"),
            "kiosk.conf:1: soft_age_hours: must be between 1 and 8760");
  EXPECT_EQ(parseError("grace_days = -1\n"), "kiosk.conf:1: grace_days: must be between 0 and 365");
  EXPECT_EQ(parseError("grace_days = 99999999999\n"),
            "kiosk.conf:1: grace_days: must be between 0 and 365");
}

TEST(Config, ListenMustBeLoopbackWithAPort) {
  EXPECT_EQ(parseError("listen = 0.0.0.0:80\n"),
            "kiosk.conf:1: listen: address must be loopback (127.0.0.0/8 or [::1]): '0.0.0.0'");
  EXPECT_EQ(parseError("listen = 192.168.1.5:80\n"),
            "kiosk.conf:1: listen: address must be loopback (127.0.0.0/8 or [::1]): '192.168.1.5'");
  EXPECT_EQ(parseError("listen = 127.0.0.1\n"),
            "kiosk.conf:1: listen: expected ADDRESS:PORT, e.g. 127.0.0.1:8080");
  EXPECT_EQ(parseError("listen = 127.0.0.1:70000\n"),
            "kiosk.conf:1: listen: port must be between 0 and 65535");
  EXPECT_EQ(parseError("listen = 127.0.0.256:80\n"),
            "kiosk.conf:1: listen: address must be loopback (127.0.0.0/8 or [::1]): '127.0.0.256'");
  auto v6 = parse("listen = [::1]:8081\n", "k");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->listen_address, "::1");
  auto local = parse("listen = localhost:0\n", "k");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->listen_address, "127.0.0.1");
  EXPECT_EQ(local->listen_port, 0);
}

TEST(Config, EnumsListsAndStrings) {
  EXPECT_EQ(parseError("roles = kiosk, printer\n"),
            "kiosk.conf:1: roles: unknown role 'printer' (kiosk)");
  EXPECT_EQ(parseError("roles = kiosk, console\n"),
            "kiosk.conf:1: roles: role 'console' is not available in this version (kiosk)");
  EXPECT_EQ(parseError("roles = kiosk,kiosk\n"), "kiosk.conf:1: roles: role 'kiosk' listed twice");
  EXPECT_EQ(parseError("roles =\n"), "kiosk.conf:1: roles: unknown role '' (kiosk)");
  EXPECT_EQ(parseError("reader = pn352_uart:/dev/ttyUSB0\n"),
            "kiosk.conf:1: reader: expected sim, auto or a libnfc connstring (e.g. "
            "pn532_uart:/dev/ttyUSB0); "
            "unknown driver 'pn352_uart'");
  EXPECT_EQ(parseError("log_level = verbose\n"),
            "kiosk.conf:1: log_level: expected error, warning, info or debug");
  EXPECT_EQ(parseError("originality_key = xyz\n"),
            "kiosk.conf:1: originality_key: expected an even number of hex digits (at most 132) or "
            "nothing");
  EXPECT_EQ(parseError("state_dir =\n"), "kiosk.conf:1: state_dir: must not be empty");
  EXPECT_EQ(parseError("root =\n"), "kiosk.conf:1: root: must not be empty");
  EXPECT_EQ(parseError("ui_dir =\n"), "kiosk.conf:1: ui_dir: must not be empty");
  EXPECT_TRUE(parse("db =\n", "k"));
  EXPECT_TRUE(parse("reader = acr122_usb\n", "k"));
  EXPECT_TRUE(parse("reader = sim\n", "k"));
}

TEST(Config, GuidanceUrlIsAPlainHttpUrl) {
  EXPECT_EQ(parseError("public_guidance_url = ftp://x\n"),
            "kiosk.conf:1: public_guidance_url: must start with https:// or http://");
  EXPECT_EQ(parseError("public_guidance_url = https://x/p?a=1\n"),
            "kiosk.conf:1: public_guidance_url: must not contain spaces, quotes, '?' or '#'");
  EXPECT_EQ(parseError("public_guidance_url = https://\n"),
            "kiosk.conf:1: public_guidance_url: has no host");
  EXPECT_EQ(
      parseError("public_guidance_url = https://" + std::string(200, 'a') + "\n"),
      "kiosk.conf:1: public_guidance_url: longer than 200 characters (it is shown as a QR code)");
}

TEST(Config, OverridesUseTheSameTable) {
  Config c;
  EXPECT_TRUE(applyOverride(c, "removal_timeout_ms=1500"));
  EXPECT_EQ(c.removal_timeout_ms, 1500);
  auto bad = applyOverride(c, "removal_timeout_ms=fast");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "removal_timeout_ms: not an integer: 'fast'");
  EXPECT_EQ(applyOverride(c, "nonsense").error().code, Errc::Usage);
  EXPECT_EQ(applyOverride(c, "colour=red").error().message, "colour: unknown key");
}

TEST(Config, LoadReadsFileAndLabelsErrorsWithItsPath) {
  auto dir =
      std::filesystem::temp_directory_path() / ("kb_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "kiosk.conf").string();
  std::ofstream(path) << "reader = sim\nidle_timeout_ms = 5\n";
  auto r = load(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path + ":2: idle_timeout_ms: must be between 500 and 3600000");
  auto missing = load((dir / "absent.conf").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::Io);
  std::filesystem::remove_all(dir);
}

TEST(Config, KeyTableListsEveryKey) {
  EXPECT_EQ(keyTable().size(), 15u);
  for (const auto& k : keyTable()) {
    Config c;
    auto r = setKey(c, k.name, "");
    // Every key is known: any failure is about the value, never "unknown key".
    if (!r) {
      EXPECT_EQ(r.error().message.find("unknown key"), std::string::npos) << k.name;
    }
  }
}

}  // namespace
}  // namespace kb::config
