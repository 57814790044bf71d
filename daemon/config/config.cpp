#include "config/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>

#include "card/originality.h"
#include "common/address.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/pin.h"

namespace kb::config {
namespace {

using Reason = std::optional<std::string>;  // nullopt: value accepted

struct KeyRule {
  KeyInfo info;
  std::function<Reason(Config&, std::string_view)> apply;
};

Reason parseInt(std::string_view value, int lo, int hi, int& out) {
  int v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec == std::errc::result_out_of_range)
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty())
    return "not an integer: '" + std::string(value) + "'";
  if (v < lo || v > hi)
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  out = v;
  return std::nullopt;
}

Reason intKey(std::string_view value, int lo, int hi, int Config::*member, Config& c) {
  return parseInt(value, lo, hi, c.*member);
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
}

Reason pathKey(std::string_view value, bool may_be_empty, std::string Config::*member, Config& c) {
  if (value.empty() && !may_be_empty) return std::string("must not be empty");
  if (hasControl(value)) return std::string("contains control characters");
  c.*member = std::string(value);
  return std::nullopt;
}

Reason parseRoles(Config& c, std::string_view value) {
  std::vector<std::string> roles;
  while (true) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item != "kiosk" && item != "console")
      return "unknown role '" + std::string(item) + "' (kiosk or console)";
    if (std::find(roles.begin(), roles.end(), item) != roles.end())
      return "role '" + std::string(item) + "' listed twice";
    roles.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  // A kiosk holds the kiosk profile (masked names), a console the staff one.
  if (roles.size() > 1)
    return std::string("kiosk and console hold different data; one role per node");
  c.roles = std::move(roles);
  return std::nullopt;
}

// ADDRESS:PORT with any IPv4 or IPv6 address ([::] brackets optional); a name is refused.
Reason parseIpPort(std::string_view value, std::string_view example, std::string& address,
                   std::uint16_t& port_out) {
  auto colon = value.rfind(':');
  if (colon == std::string_view::npos) return "expected ADDRESS:PORT, e.g. " + std::string(example);
  std::string addr(value.substr(0, colon));
  if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']')
    addr = addr.substr(1, addr.size() - 2);
  int port = 0;
  if (auto r = parseInt(value.substr(colon + 1), 0, 65535, port)) return "port " + *r;
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) != 1 && inet_pton(AF_INET6, addr.c_str(), buf) != 1)
    return "not an IP address: '" + addr + "'";
  address = addr;
  port_out = static_cast<std::uint16_t>(port);
  return std::nullopt;
}

// Any address: the console is reached over the network, client certificates only.
Reason parseConsoleListen(Config& c, std::string_view value) {
  return parseIpPort(value, "0.0.0.0:8443", c.console_address, c.console_port);
}

// Any address or empty (off): the management listener answers /metrics and /healthz
// only, which carry no personal data, so a monitoring server may reach it over the network.
Reason parseManagementListen(Config& c, std::string_view value) {
  if (value.empty()) {
    c.management_address.clear();
    c.management_port = 0;
    return std::nullopt;
  }
  return parseIpPort(value, "0.0.0.0:9464", c.management_address, c.management_port);
}

Reason parseListen(Config& c, std::string_view value) {
  auto colon = value.rfind(':');
  if (colon == std::string_view::npos)
    return std::string("expected ADDRESS:PORT, e.g. 127.0.0.1:8080");
  std::string_view addr = value.substr(0, colon);
  int port = 0;
  if (auto r = parseInt(value.substr(colon + 1), 0, 65535, port)) return "port " + *r;
  if (addr == "[::1]") {
    addr = "::1";
  } else if (addr == "localhost") {
    addr = "127.0.0.1";
  } else if (!isLoopbackAddress(addr)) {
    // The kiosk API shows personal data without a login: never on a network interface.
    return "address must be loopback (127.0.0.0/8 or [::1]): '" + std::string(addr) + "'";
  }
  c.listen_address = std::string(addr);
  c.listen_port = static_cast<std::uint16_t>(port);
  return std::nullopt;
}

Reason parseReader(Config& c, std::string_view value) {
  static constexpr std::array<std::string_view, 10> kDrivers = {
      "acr122_usb", "acr122_pcsc", "acr122s",   "arygon", "pn532_uart",
      "pn532_spi",  "pn532_i2c",   "pn53x_usb", "pcsc",   "pn71xx"};
  if (value == "sim" || value == "auto") {
    c.reader = std::string(value);
    return std::nullopt;
  }
  std::string_view driver = value.substr(0, value.find(':'));
  if (std::find(kDrivers.begin(), kDrivers.end(), driver) == kDrivers.end())
    return "expected sim, auto or a libnfc connstring (e.g. pn532_uart:/dev/ttyUSB0); unknown "
           "driver '" +
           std::string(driver) + "'";
  if (hasControl(value) || value.find(' ') != std::string_view::npos)
    return std::string("connstring contains spaces or control characters");
  c.reader = std::string(value);
  return std::nullopt;
}

Reason parseHexKey(Config& c, std::string_view value) {
  if (!value.empty()) {
    bool hex = std::all_of(value.begin(), value.end(), [](char ch) {
      return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    });
    if (!hex || value.size() % 2 != 0 || value.size() > 132)
      return std::string("expected an even number of hex digits (at most 132) or nothing");
    // The same check start-up makes, so that --check-config says file:line for it.
    if (auto key = card::OriginalityKey::fromPoint(hexDecode(value).value_or("")); !key)
      return key.error().message;
  }
  c.originality_key = std::string(value);
  return std::nullopt;
}

Reason parseUrl(Config& c, std::string_view value) {
  if (!value.starts_with("https://") && !value.starts_with("http://"))
    return std::string("must start with https:// or http://");
  if (value.size() > 200)
    return std::string("longer than 200 characters (it is shown as a QR code)");
  if (hasControl(value) || value.find_first_of(" ?#\"<>\\") != std::string_view::npos)
    return std::string("must not contain spaces, quotes, '?' or '#'");
  const auto host = value.find("://") + 3;  // the prefix check guarantees "://"
  if (host >= value.size() || value[host] == '/') return std::string("has no host");
  while (value.ends_with('/')) value.remove_suffix(1);
  c.public_guidance_url = std::string(value);
  return std::nullopt;
}

// A mirror base URL (repeatable): everything fetched from it is signed, so http://
// is accepted too; https:// is checked against mirror_ca or the system's CAs.
Reason parseMirror(Config& c, std::string_view value) {
  if (!value.starts_with("https://") && !value.starts_with("http://"))
    return std::string("must start with https:// or http://");
  if (value.size() > 500) return std::string("longer than 500 characters");
  if (hasControl(value) || value.find_first_of(" ?#\"<>\\") != std::string_view::npos)
    return std::string("must not contain spaces, quotes, '?' or '#'");
  const auto host = value.find("://") + 3;
  if (host >= value.size() || value[host] == '/') return std::string("has no host");
  if (std::find(c.mirrors.begin(), c.mirrors.end(), value) != c.mirrors.end())
    return std::string("the same mirror twice");
  if (c.mirrors.size() >= 16) return std::string("at most 16 mirrors");
  c.mirrors.emplace_back(value);
  return std::nullopt;
}

Reason parseLogLevel(Config& c, std::string_view value) {
  if (value != "error" && value != "warning" && value != "info" && value != "debug")
    return std::string("expected error, warning, info or debug");
  c.log_level = std::string(value);
  return std::nullopt;
}

const std::vector<KeyRule>& rules() {
  static const std::vector<KeyRule> kTable = {
      {{"roles", "kiosk | console", "the role this node plays"}, parseRoles},
      {{"console_listen", "ADDRESS:PORT", "where the staff console serves HTTPS (mTLS)"},
       parseConsoleListen},
      {{"console_cert", "path", "console server certificate chain (PEM)"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::console_cert, c); }},
      {{"console_key", "path", "console server private key (PEM)"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::console_key, c); }},
      {{"console_client_ca", "path", "CA certificate that signs operator certificates"},
       [](Config& c, std::string_view v) {
         return pathKey(v, false, &Config::console_client_ca, c);
       }},
      {{"console_crl", "path (empty: none)", "CRL of the console CA (PEM)"},
       [](Config& c, std::string_view v) { return pathKey(v, true, &Config::console_crl, c); }},
      {{"nik_key", "path", "NIK hash key (the publisher's --nik-key)"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::nik_key, c); }},
      {{"console_rate_burst", "integer 1..10000", "lookups one operator may make at once"},
       [](Config& c, std::string_view v) {
         return intKey(v, 1, 10000, &Config::console_rate_burst, c);
       }},
      {{"console_rate_per_minute", "integer 1..100000", "sustained lookups per operator"},
       [](Config& c, std::string_view v) {
         return intKey(v, 1, 100000, &Config::console_rate_per_minute, c);
       }},
      {{"console_threads", "integer 0..64 (0: one per core)", "threads serving the console"},
       [](Config& c, std::string_view v) { return intKey(v, 0, 64, &Config::console_threads, c); }},
      {{"audit_checkpoint_every", "integer 1..100000", "audit lines between signed checkpoints"},
       [](Config& c, std::string_view v) {
         return intKey(v, 1, 100000, &Config::audit_checkpoint_every, c);
       }},
      {{"audit_key", "path (empty: <state_dir>/audit-node.key)", "node key signing checkpoints"},
       [](Config& c, std::string_view v) { return pathKey(v, true, &Config::audit_key, c); }},
      {{"listen", "ADDRESS:PORT, loopback only", "where the kiosk UI and API listen"}, parseListen},
      {{"state_dir", "path", "directory for the cache and runtime state"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::state_dir, c); }},
      {{"db", "path (empty: <state_dir>/cache.db)", "the SQLite cache"},
       [](Config& c, std::string_view v) { return pathKey(v, true, &Config::db, c); }},
      {{"root", "path", "the trust root document"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::root, c); }},
      {{"reader", "sim | auto | libnfc connstring", "the card reader"}, parseReader},
      {{"originality_key", "hex (empty: NXP's NTAG21x key)",
        "chip originality public key (uncompressed point)"},
       parseHexKey},
      {{"soft_age_hours", "integer 1..8760", "data older than this shows an amber warning"},
       [](Config& c, std::string_view v) {
         return intKey(v, cache::kMinSoftAgeHours, cache::kMaxSoftAgeHours, &Config::soft_age_hours,
                       c);
       }},
      {{"grace_days", "integer 0..365",
        "days past the signed expiry still answered (long outages)"},
       [](Config& c, std::string_view v) {
         return intKey(v, cache::kMinGraceDays, cache::kMaxGraceDays, &Config::grace_days, c);
       }},
      {{"removal_timeout_ms", "integer 100..600000", "card removed -> idle after this"},
       [](Config& c, std::string_view v) {
         return intKey(v, 100, 600000, &Config::removal_timeout_ms, c);
       }},
      {{"idle_timeout_ms", "integer 500..3600000", "no touch -> idle after this"},
       [](Config& c, std::string_view v) {
         return intKey(v, 500, 3600000, &Config::idle_timeout_ms, c);
       }},
      {{"error_timeout_ms", "integer 100..600000", "error screen -> idle after this"},
       [](Config& c, std::string_view v) {
         return intKey(v, 100, 600000, &Config::error_timeout_ms, c);
       }},
      {{"ui_dir", "path", "the kiosk UI's static files"},
       [](Config& c, std::string_view v) { return pathKey(v, false, &Config::ui_dir, c); }},
      {{"printer", "device path (empty: none)",
        "ESC/POS receipt printer for the printed slip (/dev/usb/lp0, /dev/ttyUSB0)"},
       [](Config& c, std::string_view v) { return pathKey(v, true, &Config::printer, c); }},
      {{"operator_pin_hash", "scrypt$N$r$p$salt$key (kbctl operator-pin; empty: none)",
        "the kelurahan operator's PIN, hashed: opens the kiosk health screen"},
       [](Config& c, std::string_view v) -> Reason {
         if (!v.empty())
           if (auto r = crypto::checkPinHash(v); !r) return r.error().message;
         c.operator_pin_hash = std::string(v);
         return std::nullopt;
       }},
      {{"public_guidance_url", "http(s) URL, no query",
        "base of the public guidance pages (QR codes)"},
       parseUrl},
      {{"log_level", "error | warning | info | debug", "least important message logged"},
       parseLogLevel},
      {{"mirror", "http(s) URL, may repeat (tried in order)",
        "a mirror to sync the data from (timestamp.json, bundles, roots)"},
       parseMirror},
      {{"mirror_ca", "path (empty: the system's CA store)", "CA certificates trusted for mirrors"},
       [](Config& c, std::string_view v) { return pathKey(v, true, &Config::mirror_ca, c); }},
      {{"sync_interval_minutes", "integer 1..1440",
        "minutes between syncs (sooner after a failure)"},
       [](Config& c, std::string_view v) {
         return intKey(v, 1, 1440, &Config::sync_interval_minutes, c);
       }},
      {{"management_listen", "ADDRESS:PORT, any address (empty: off)",
        "serves only GET /metrics and /healthz (monitoring), e.g. 0.0.0.0:9464"},
       parseManagementListen},
      {{"allow_dev_root", "true | false",
        "trust the public DEV root (certs/dev) outside --demo; marks everything DEV"},
       [](Config& c, std::string_view v) -> Reason {
         if (v != "true" && v != "false") return std::string("expected true or false");
         c.allow_dev_root = v == "true";
         return std::nullopt;
       }},
      {{"tpm_tcti", "none | tpm2-tss TCTI (device:/dev/tpmrm0, swtpm:host=H,port=P)",
        "TPM whose NV counter also keeps the highest serial (default: /dev/tpmrm0 if present)"},
       [](Config& c, std::string_view v) -> Reason {
         c.tpm_tcti = std::string(v);
         return std::nullopt;
       }},
  };
  return kTable;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool Config::hasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string Config::dbPath() const {
  return db.empty() ? state_dir + "/cache.db" : db;
}

const std::vector<KeyInfo>& keyTable() {
  static const std::vector<KeyInfo> kInfos = [] {
    std::vector<KeyInfo> v;
    for (const auto& r : rules()) v.push_back(r.info);
    return v;
  }();
  return kInfos;
}

Result<void> setKey(Config& config, std::string_view key, std::string_view value) {
  const auto& table = rules();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const KeyRule& r) { return r.info.name == key; });
  if (it == table.end()) return fail(Errc::Config, std::string(key) + ": unknown key");
  if (auto reason = it->apply(config, value))
    return fail(Errc::Config, std::string(key) + ": " + *reason);
  return {};
}

Result<Config> parse(std::string_view text, std::string_view file_name, Config base) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string> seen;
  long line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto where = std::string(file_name) + ":" + std::to_string(line_no) + ": ";
    // An inline comment starts at " #"; '#' cannot occur in any valid value.
    if (auto hash = line.find('#');
        hash != std::string_view::npos &&
        (hash == 0 || line[hash - 1] == ' ' || line[hash - 1] == '\t')) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return fail(Errc::Config, where + std::string(line) + ": expected key = value");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (key.empty()) return fail(Errc::Config, where + "-: missing key before '='");
    if (key != "mirror" && std::find(seen.begin(), seen.end(), key) != seen.end())
      return fail(Errc::Config, where + std::string(key) + ": duplicate key");
    if (auto r = setKey(base, key, value); !r) return fail(Errc::Config, where + r.error().message);
    seen.emplace_back(key);
  }
  if (base.hasRole("console")) {
    for (const auto& [key, value] : {std::pair{"console_cert", &base.console_cert},
                                     {"console_key", &base.console_key},
                                     {"console_client_ca", &base.console_client_ca},
                                     {"nik_key", &base.nik_key}})
      if (value->empty())
        return fail(Errc::Config,
                    std::string(file_name) + ": " + key + ": required with roles = console");
  }
  if (!base.management_address.empty()) {
    auto where = std::string(file_name) + ": management_listen: ";
    if (base.hasRole("console"))
      return fail(Errc::Config, where + "kiosk role only (a console has /healthz on its own port)");
    const bool any = base.management_address == "0.0.0.0" || base.management_address == "::";
    if (base.management_port != 0 && base.management_port == base.listen_port &&
        (any || base.management_address == base.listen_address))
      return fail(Errc::Config, where + "port " + std::to_string(base.management_port) +
                                    " is already the kiosk's listen port");
  }
  return base;
}

Result<Config> load(const std::string& path, Config base) {
  auto text = readFile(path, 64 * 1024);
  if (!text) return fail(text.error().code, path + ": " + text.error().message);
  return parse(*text, path, std::move(base));
}

Result<void> applyOverride(Config& config, std::string_view assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos)
    return fail(Errc::Usage, std::string(assignment) + ": expected key=value");
  return setKey(config, trim(assignment.substr(0, eq)), trim(assignment.substr(eq + 1)));
}

}  // namespace kb::config
