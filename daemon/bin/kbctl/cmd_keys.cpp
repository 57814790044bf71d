// kbctl keygen, root init, root rotate, root check, operator-pin.

#include <filesystem>
#include <iostream>
#include <set>

#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "bin/kbctl/keys.h"
#include "common/files.h"
#include "crypto/pin.h"
#include "trust/trust.h"

namespace kb::cli {
namespace {

Result<int> keygen(const Words& words) {
  auto args = Args::parse(words, {"out"}, {});
  if (!args) return std::unexpected(args.error());
  auto out = args->required("out");
  if (!out) return std::unexpected(out.error());
  auto key = crypto::SigningKey::generate();
  if (!key) return std::unexpected(key.error());
  if (auto r = writeFileAtomic(*out + ".key", key->toPem(), 0600); !r)
    return std::unexpected(r.error());
  if (auto r = writeFileAtomic(*out + ".pub", key->publicKey().toPem(), 0644); !r)
    return std::unexpected(r.error());
  std::cout << key->publicKey().keyId() << '\n';
  return 0;
}

// Options shared by `root init` and `root rotate`.
const std::set<std::string> kRootOptions = {
    "out",      "expires-days",  "root-key",           "threshold",      "snapshot-key",
    "card-key", "timestamp-key", "snapshot-threshold", "card-threshold", "from",
    "old-key",  "mirror"};

Result<trust::RootSpec> specFromArgs(const Args& args, UnixSeconds now) {
  trust::RootSpec spec;
  auto days = args.integer("expires-days");
  if (!days) return std::unexpected(days.error());
  if (*days < 1 || *days > 3650) return fail(Errc::Usage, "--expires-days must be 1..3650");
  spec.expires = now + *days * 86400;
  auto threshold = args.integer("threshold", 1);
  auto snap_t = args.integer("snapshot-threshold", 1);
  auto card_t = args.integer("card-threshold", 1);
  if (!threshold || !snap_t || !card_t) return fail(Errc::Usage, "thresholds are whole numbers");
  for (long long t : {*threshold, *snap_t, *card_t})
    if (t < 1 || t > 255) return fail(Errc::Usage, "thresholds must be 1..255");
  spec.root_threshold = static_cast<int>(*threshold);
  spec.snapshot_threshold = static_cast<int>(*snap_t);
  spec.card_threshold = static_cast<int>(*card_t);
  for (auto [list, name] : {std::pair{&spec.root_keys, "root-key"},
                            {&spec.snapshot_keys, "snapshot-key"},
                            {&spec.card_keys, "card-key"},
                            {&spec.timestamp_keys, "timestamp-key"}}) {
    auto keys = loadPublicKeys(args.all(name));
    if (!keys) return std::unexpected(keys.error());
    *list = std::move(*keys);
  }
  return spec;
}

// Signs, then re-reads what was written exactly as a kiosk would, so a root that
// could never be accepted (threshold above its key count, say) is never written.
// With --mirror DIR the root is also laid out as DIR/root-V.json, the name under
// which kiosks fetch each version of the chain (docs/contracts.md §6).
Result<int> writeRoot(const std::string& out, const std::string& text, UnixSeconds now,
                      const std::optional<std::string>& mirror = {}) {
  auto check = trust::TrustRoot::parse(text, now);
  if (!check) return std::unexpected(check.error());
  if (auto r = writeFileAtomic(out, text); !r) return std::unexpected(r.error());
  if (mirror) {
    auto copy =
        std::filesystem::path(*mirror) / ("root-" + std::to_string(check->version()) + ".json");
    if (auto r = writeFileAtomic(copy, text); !r) return std::unexpected(r.error());
    std::cout << copy.string() << '\n';
  }
  std::cout << out << ": trust root version " << check->version() << (check->dev() ? " (DEV)" : "")
            << ", expires " << formatUtc(check->expires()) << '\n';
  return 0;
}

Result<int> rootInit(const Words& words) {
  auto args = Args::parse(words, kRootOptions, {"dev"});
  if (!args) return std::unexpected(args.error());
  auto out = args->required("out");
  if (!out) return std::unexpected(out.error());
  UnixSeconds now = nowSeconds();
  auto spec = specFromArgs(*args, now);
  if (!spec) return std::unexpected(spec.error());
  if (args->all("root-key").empty() || args->all("snapshot-key").empty() ||
      args->all("card-key").empty())
    return fail(Errc::Usage, "root init needs --root-key, --snapshot-key and --card-key");
  spec->dev = args->has("dev");
  auto signers = loadSigningKeys(args->all("root-key"));
  if (!signers) return std::unexpected(signers.error());
  return writeRoot(*out, trust::makeRoot(*spec, *signers), now, args->get("mirror"));
}

Result<int> rootRotate(const Words& words) {
  auto args = Args::parse(words, kRootOptions, {"dev"});
  if (!args) return std::unexpected(args.error());
  auto from = args->required("from");
  auto out = args->required("out");
  if (!from) return std::unexpected(from.error());
  if (!out) return std::unexpected(out.error());
  UnixSeconds now = nowSeconds();
  auto old = trust::TrustRoot::load(*from, now);
  if (!old) return std::unexpected(old.error());
  auto spec = specFromArgs(*args, now);
  if (!spec) return std::unexpected(spec.error());
  if (spec->root_keys.empty()) return fail(Errc::Usage, "root rotate needs the new --root-key set");
  // Roles not named again keep the keys they had.
  auto carry = [&](trust::Role role, std::vector<crypto::PublicKey>& list, int& threshold,
                   const char* option) {
    if (!args->all(option).empty()) return;
    for (const auto& id : old->role(role).keyids) list.push_back(*old->key(role, id));
    threshold = old->role(role).threshold;
  };
  carry(trust::Role::Snapshot, spec->snapshot_keys, spec->snapshot_threshold, "snapshot-key");
  carry(trust::Role::Card, spec->card_keys, spec->card_threshold, "card-key");
  int ts_threshold = 1;
  carry(trust::Role::Timestamp, spec->timestamp_keys, ts_threshold, "timestamp-key");
  spec->version = old->version() + 1;
  spec->dev = args->has("dev") || old->dev();
  std::vector<std::string> signer_paths = args->all("old-key");
  for (const auto& p : args->all("root-key")) signer_paths.push_back(p);
  auto signers = loadSigningKeys(signer_paths);
  if (!signers) return std::unexpected(signers.error());
  std::string text = trust::makeRoot(*spec, *signers);
  if (auto chain = old->update(text, now); !chain) return std::unexpected(chain.error());
  return writeRoot(*out, text, now, args->get("mirror"));
}

Result<int> rootCheck(const Words& words) {
  auto args = Args::parse(words, {"trusted"}, {});
  if (!args) return std::unexpected(args.error());
  if (args->positional().size() != 1) return fail(Errc::Usage, "root check takes one ROOT.json");
  UnixSeconds now = nowSeconds();
  const std::string& path = args->positional()[0];
  if (auto trusted = args->get("trusted")) {
    auto old = trust::TrustRoot::load(*trusted, now);
    if (!old) return std::unexpected(old.error());
    auto text = readFile(path, 1 << 20);
    if (!text) return std::unexpected(text.error());
    auto next = old->update(*text, now);
    if (!next) return fail(next.error().code, path + ": " + next.error().message);
    std::cout << path << ": version " << next->version() << " follows version " << old->version()
              << '\n';
    return 0;
  }
  auto root = trust::TrustRoot::load(path, now);
  if (!root) return std::unexpected(root.error());
  std::cout << path << ": trust root version " << root->version() << (root->dev() ? " (DEV)" : "")
            << ", expires " << formatUtc(root->expires()) << '\n';
  return 0;
}

// The PIN comes on stdin (never on the command line, where ps and the shell's history
// would show it); only the salted hash is printed, as the config line to paste.
Result<int> operatorPin(const Words& words) {
  auto a = Args::parse(words, {}, {});
  if (!a) return std::unexpected(a.error());
  std::string pin;
  if (!std::getline(std::cin, pin)) return fail(Errc::Usage, "no PIN on standard input");
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  if (auto f = crypto::checkPinFormat(pin); !f) return std::unexpected(f.error());
  auto hash = crypto::hashPin(pin);
  if (!hash) return std::unexpected(hash.error());
  std::cout << "operator_pin_hash = " << *hash << '\n';
  return 0;
}

}  // namespace

std::vector<Command> keyCommands() {
  return {
      {"keygen", "generate an Ed25519 key pair",
       "usage: kbctl keygen --out NAME\n\n"
       "Writes NAME.key (PEM PKCS#8 private key, mode 0600) and NAME.pub (PEM public key)\n"
       "and prints the key id (hex of the first 16 bytes of SHA-256 of the raw public key).\n",
       keygen},
      {"root init", "create trust root version 1",
       "usage: kbctl root init --out root.json --expires-days D --root-key K.key [--root-key "
       "K2.key ...]\n"
       "         --threshold N --snapshot-key S.pub [...] --card-key C.pub [...] [--timestamp-key "
       "T.pub]\n"
       "         [--snapshot-threshold N] [--card-threshold N] [--dev] [--mirror DIR]\n\n"
       "The root keys sign the document; --threshold of them must sign every later version.\n"
       "--dev marks the root as a development root (shown wherever it is used).\n"
       "--mirror DIR also writes DIR/root-1.json, where kiosks fetch the chain from.\n",
       rootInit},
      {"root rotate", "create root version N+1, signed by old and new root keys",
       "usage: kbctl root rotate --from root.json --out root-next.json --expires-days D\n"
       "         --old-key OLD.key [...] --root-key NEW.key [...] --threshold N\n"
       "         [--snapshot-key S.pub ...] [--card-key C.pub ...] [--timestamp-key T.pub]\n"
       "         [--mirror DIR]\n\n"
       "A threshold of the current root keys (--old-key) and of the new root keys (--root-key)\n"
       "must sign. Roles not named keep their keys. The result is checked as a kiosk would.\n"
       "--mirror DIR also writes DIR/root-N.json (N the new version) for kiosks to walk to.\n",
       rootRotate},
      {"root check", "check a trust root, or that it follows a trusted one",
       "usage: kbctl root check [--trusted CURRENT.json] ROOT.json\n\n"
       "Without --trusted: ROOT.json is signed by a threshold of its own root keys and unexpired.\n"
       "With --trusted: ROOT.json is the next version after CURRENT.json (rotation chain).\n",
       rootCheck},
      {"operator-pin", "hash the kelurahan operator's PIN for the kiosk config",
       "usage: kbctl operator-pin < PIN_FILE   (or: read -r PIN; echo \"$PIN\" | kbctl "
       "operator-pin)\n\n"
       "Reads the PIN (6-12 digits) from the first line of standard input and prints the line\n"
       "'operator_pin_hash = scrypt$N$r$p$SALT$KEY' (scrypt, a fresh 16-byte salt) for the\n"
       "kiosk's config. The operator opens the health screen with it (long press on the footer).\n",
       operatorPin},
  };
}

}  // namespace kb::cli
