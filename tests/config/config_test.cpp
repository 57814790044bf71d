#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace kb::config {
namespace {

// A valid secp128r1 point (NXP's NTAG21x originality key): the config checks the curve.
constexpr std::string_view kValidPoint =
    "04494E1A386D3D3CFE3DC10E5DE68A499B1C202DB5B132393E89ED19FE5BE8BC61";

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
      "originality_key = " +
          std::string(kValidPoint) +
          "\n"
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
  EXPECT_EQ(c->originality_key, kValidPoint);
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
            "kiosk.conf:1: roles: unknown role 'printer' (kiosk or console)");
  EXPECT_EQ(parseError("roles = kiosk, console\n"),
            "kiosk.conf:1: roles: kiosk and console hold different data; one role per node");
  EXPECT_EQ(parseError("roles = kiosk,kiosk\n"), "kiosk.conf:1: roles: role 'kiosk' listed twice");
  EXPECT_EQ(parseError("roles =\n"), "kiosk.conf:1: roles: unknown role '' (kiosk or console)");
  // A console needs its certificates and the NIK key; the listener may be on the network.
  EXPECT_EQ(parseError("roles = console\n"),
            "kiosk.conf: console_cert: required with roles = console");
  EXPECT_EQ(parseError("console_listen = 10.0.0.1\n"),
            "kiosk.conf:1: console_listen: expected ADDRESS:PORT, e.g. 0.0.0.0:8443");
  EXPECT_EQ(parseError("console_listen = example.org:8443\n"),
            "kiosk.conf:1: console_listen: not an IP address: 'example.org'");
  EXPECT_EQ(parseError("console_rate_burst = 0\n"),
            "kiosk.conf:1: console_rate_burst: must be between 1 and 10000");
  auto console = parse(
      "roles = console\nconsole_listen = [::]:9443\nconsole_cert = /c.pem\nconsole_key = /c.key\n"
      "console_client_ca = /ca.pem\nnik_key = /nik.key\n",
      "c");
  ASSERT_TRUE(console) << console.error().message;
  EXPECT_TRUE(console->hasRole("console"));
  EXPECT_FALSE(console->hasRole("kiosk"));
  EXPECT_EQ(console->console_address, "::");
  EXPECT_EQ(console->console_port, 9443);
  EXPECT_EQ(parseError("reader = pn352_uart:/dev/ttyUSB0\n"),
            "kiosk.conf:1: reader: expected sim, auto or a libnfc connstring (e.g. "
            "pn532_uart:/dev/ttyUSB0); "
            "unknown driver 'pn352_uart'");
  EXPECT_EQ(parseError("log_level = verbose\n"),
            "kiosk.conf:1: log_level: expected error, warning, info or debug");
  EXPECT_EQ(parseError("originality_key = xyz\n"),
            "kiosk.conf:1: originality_key: expected an even number of hex digits (at most 132) or "
            "nothing");
  // Hex of the right length, but not a point on the curve: start-up would refuse it.
  EXPECT_EQ(parseError("\noriginality_key = 04" + std::string(64, '0') + "\n"),
            "kiosk.conf:2: originality_key: originality key is not a point on secp128r1");
  EXPECT_EQ(parseError("allow_dev_root = yes\n"),
            "kiosk.conf:1: allow_dev_root: expected true or false");
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

// `mirror` may repeat (tried in order); every other key is still a duplicate.
TEST(Config, MirrorRepeatsInOrder) {
  auto c = parse(
      "mirror = https://a.example/kb\nmirror = https://b.example/kb/\nsync_interval_minutes = 5\n",
      "t.conf");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mirrors,
            (std::vector<std::string>{"https://a.example/kb", "https://b.example/kb/"}));
  EXPECT_EQ(c->sync_interval_minutes, 5);
  EXPECT_FALSE(parse("mirror = ftp://a.example/\n", "t.conf"));
  EXPECT_FALSE(parse("mirror = https://a.example/\nmirror = https://a.example/\n", "t.conf"));
  EXPECT_FALSE(parse("sync_interval_minutes = 0\n", "t.conf"));
  EXPECT_FALSE(parse("mirror_ca = a\nmirror_ca = b\n", "t.conf"));
}

// Every key in the table sets its own field, and the table holds exactly the keys
// written out here: a key added to the table without a check here fails, and so does
// a key that parses but sets nothing or another field.
TEST(Config, EveryKeyOfTheTableSetsItsOwnField) {
  static constexpr std::string_view kNxpKey =  // NXP's NTAG21x originality key, a valid point
      "04494E1A386D3D3CFE3DC10E5DE68A499B1C202DB5B132393E89ED19FE5BE8BC61";
  struct Sample {
    std::string_view value;
    std::function<bool(const Config&)> took;
  };
  const std::map<std::string_view, Sample> samples = {
      {"roles",
       {"kiosk", [](const Config& c) { return c.roles == std::vector<std::string>{"kiosk"}; }}},
      {"listen",
       {"127.0.0.2:9191",
        [](const Config& c) { return c.listen_address == "127.0.0.2" && c.listen_port == 9191; }}},
      {"state_dir", {"/srv/kb", [](const Config& c) { return c.state_dir == "/srv/kb"; }}},
      {"db", {"/srv/kb/x.db", [](const Config& c) { return c.db == "/srv/kb/x.db"; }}},
      {"root", {"/etc/kb/r.json", [](const Config& c) { return c.root == "/etc/kb/r.json"; }}},
      {"reader", {"sim", [](const Config& c) { return c.reader == "sim"; }}},
      {"originality_key", {kNxpKey, [](const Config& c) { return c.originality_key == kNxpKey; }}},
      {"soft_age_hours", {"7", [](const Config& c) { return c.soft_age_hours == 7; }}},
      {"grace_days", {"11", [](const Config& c) { return c.grace_days == 11; }}},
      {"removal_timeout_ms",
       {"1234", [](const Config& c) { return c.removal_timeout_ms == 1234; }}},
      {"idle_timeout_ms", {"5678", [](const Config& c) { return c.idle_timeout_ms == 5678; }}},
      {"error_timeout_ms", {"4321", [](const Config& c) { return c.error_timeout_ms == 4321; }}},
      {"ui_dir", {"/srv/ui", [](const Config& c) { return c.ui_dir == "/srv/ui"; }}},
      {"printer", {"/dev/usb/lp0", [](const Config& c) { return c.printer == "/dev/usb/lp0"; }}},
      {"public_guidance_url",
       {"https://example.go.id/p",
        [](const Config& c) { return c.public_guidance_url == "https://example.go.id/p"; }}},
      {"log_level", {"debug", [](const Config& c) { return c.log_level == "debug"; }}},
      {"console_listen",
       {"10.1.2.3:9443",
        [](const Config& c) { return c.console_address == "10.1.2.3" && c.console_port == 9443; }}},
      {"console_cert", {"/s.pem", [](const Config& c) { return c.console_cert == "/s.pem"; }}},
      {"console_key", {"/s.key", [](const Config& c) { return c.console_key == "/s.key"; }}},
      {"console_client_ca",
       {"/ca.pem", [](const Config& c) { return c.console_client_ca == "/ca.pem"; }}},
      {"console_crl", {"/ca.crl", [](const Config& c) { return c.console_crl == "/ca.crl"; }}},
      {"nik_key", {"/nik.key", [](const Config& c) { return c.nik_key == "/nik.key"; }}},
      {"console_rate_burst", {"7", [](const Config& c) { return c.console_rate_burst == 7; }}},
      {"console_rate_per_minute",
       {"90", [](const Config& c) { return c.console_rate_per_minute == 90; }}},
      {"console_threads", {"3", [](const Config& c) { return c.console_threads == 3; }}},
      {"audit_checkpoint_every",
       {"13", [](const Config& c) { return c.audit_checkpoint_every == 13; }}},
      {"audit_key", {"/a.key", [](const Config& c) { return c.audit_key == "/a.key"; }}},
      {"allow_dev_root", {"true", [](const Config& c) { return c.allow_dev_root; }}},
      {"tpm_tcti", {"none", [](const Config& c) { return c.tpm_tcti == "none"; }}},
      {"mirror",
       {"https://m.example.go.id/kb",
        [](const Config& c) {
          return c.mirrors == std::vector<std::string>{"https://m.example.go.id/kb"};
        }}},
      {"mirror_ca",
       {"/etc/kb/ca.pem", [](const Config& c) { return c.mirror_ca == "/etc/kb/ca.pem"; }}},
      {"sync_interval_minutes",
       {"17", [](const Config& c) { return c.sync_interval_minutes == 17; }}},
      {"management_listen",
       {"[::]:9464",
        [](const Config& c) { return c.management_address == "::" && c.management_port == 9464; }}},
      {"operator_pin_hash",
       {"scrypt$16384$8$1$00112233445566778899aabbccddeeff$"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        [](const Config& c) { return c.operator_pin_hash.starts_with("scrypt$16384$"); }}},
  };
  std::set<std::string_view> in_table;
  for (const auto& k : keyTable()) {
    in_table.insert(k.name);
    auto it = samples.find(k.name);
    if (it == samples.end()) {
      ADD_FAILURE() << "key " << k.name << " has no sample in this test: add one to `samples`";
      continue;
    }
    Config c;
    auto r = setKey(c, k.name, it->second.value);
    ASSERT_TRUE(r) << k.name << ": " << r.error().message;
    EXPECT_TRUE(it->second.took(c)) << k.name << " = " << it->second.value << " did not set it";
    EXPECT_FALSE(k.kind.empty()) << k.name;
    EXPECT_FALSE(k.help.empty()) << k.name;
  }
  for (const auto& [name, sample] : samples)
    EXPECT_TRUE(in_table.contains(name)) << "key " << name << " is missing from the table";
}

}  // namespace
}  // namespace kb::config
