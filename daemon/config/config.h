#pragma once
/// The daemon's one configuration file: `key = value` lines, `#` comments,
/// every key checked against a table of types, defaults and ranges.
/// Any unknown key or bad value is an error "file:line: key: reason".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/freshness.h"
#include "common/error.h"

namespace kb::config {

struct Config {
  std::vector<std::string> roles{"kiosk"};  ///< kiosk or console (one per node)
  // Role console (docs/contracts.md, "Staff console"); required when it is on.
  std::string console_address = "0.0.0.0";
  std::uint16_t console_port = 8443;
  std::string console_cert;       ///< server certificate chain (PEM)
  std::string console_key;        ///< its private key (PEM)
  std::string console_client_ca;  ///< CA that signs operator certificates
  std::string console_crl;        ///< optional CRL of that CA (PEM)
  std::string nik_key;            ///< the publisher's --nik-key file
  int console_rate_burst = 30;    ///< lookups one operator may make at once
  int console_rate_per_minute = 60;
  int console_threads = 0;           ///< threads serving the console; 0: one per core
  int audit_checkpoint_every = 100;  ///< audit lines between signed checkpoints
  std::string audit_key;             ///< node audit key; empty: <state_dir>/audit-node.key
  bool hasRole(std::string_view role) const;
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string state_dir = "/var/lib/kartu-bahagia";
  std::string db;  ///< empty: <state_dir>/cache.db
  std::string root = "/etc/kartu-bahagia/root.json";
  std::string reader = "auto";  ///< sim | auto | a libnfc connstring
  std::string
      originality_key;  ///< hex originality public key point; empty: NXP's published NTAG21x key
  int soft_age_hours = cache::kDefaultSoftAgeHours;  ///< the cache's one freshness policy
  int grace_days = cache::kDefaultGraceDays;
  int removal_timeout_ms = 20000;
  int idle_timeout_ms = 90000;
  int error_timeout_ms = 15000;
  std::string ui_dir = "/usr/share/kartu-bahagia/kiosk-ui";
  std::string printer;            ///< ESC/POS receipt printer device; empty: no printed slip
  std::string operator_pin_hash;  ///< kbctl operator-pin; empty: no operator screen
  std::string public_guidance_url = "https://kartubahagia.jambikota.go.id/panduan";
  std::string log_level = "info";  ///< error | warning | info | debug
  bool allow_dev_root = false;     ///< trust the public DEV root outside --demo (tests only)
  std::string tpm_tcti;  ///< TPM for the serial's NV counter; empty: /dev/tpmrm0 if it exists; none
  std::vector<std::string> mirrors;  ///< `mirror` lines, tried in order (docs/contracts.md §6)
  std::string mirror_ca;             ///< empty: the system's CA store
  int sync_interval_minutes = 60;
  /// management_listen: /metrics and /healthz only, any address; empty = no such listener.
  std::string management_address;
  std::uint16_t management_port = 0;

  /// db, or <state_dir>/cache.db when db is empty.
  std::string dbPath() const;
};

/// One row of the key table, for --help and docs.
struct KeyInfo {
  std::string_view name;
  std::string_view kind;  ///< what a value looks like, e.g. "integer 100..600000"
  std::string_view help;
};
const std::vector<KeyInfo>& keyTable();

/// Sets one key on `config`. On failure the error message is "key: reason".
Result<void> setKey(Config& config, std::string_view key, std::string_view value);

/// Parses a whole file's text; `file_name` only labels errors ("file:line: key: reason").
/// Duplicate keys are errors: two values for one key hide a mistake.
Result<Config> parse(std::string_view text, std::string_view file_name, Config base = {});

/// Reads and parses a file (at most 64 KiB).
Result<Config> load(const std::string& path, Config base = {});

/// "key=value" (from the command line) applied to `config`; error "key: reason".
Result<void> applyOverride(Config& config, std::string_view assignment);

}  // namespace kb::config
