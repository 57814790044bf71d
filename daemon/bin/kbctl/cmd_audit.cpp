// kbctl audit verify: check a console node's audit log (docs/formats.md, "Audit log").

#include <iostream>

#include "audit/audit_log.h"
#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "common/files.h"

namespace kb::cli {
namespace {

constexpr const char* kVerifyUsage =
    "usage: kbctl audit verify --log AUDIT_LOG [--key NODE.pub] [--journal FILE]\n"
    "\n"
    "Checks the hash chain of a console node's audit log line by line: each line's hash\n"
    "over its content, its seq and its link to the line before. With --key (the node's\n"
    "audit-node.key.pub) every checkpoint signature is checked too. With --journal (a\n"
    "journal export, e.g. journalctl -u kartu-bahagiad -o cat > J) every checkpoint the\n"
    "node logged there must be in the log with the same hash, so a tail cut after a\n"
    "checkpoint is found. An incomplete last line (a crash mid-write) is ignored.\n"
    "\n"
    "Exit 0 and a summary, or exit 1 with: error: AUDIT_BROKEN: line N: what is wrong\n";

Result<int> verifyCmd(const Words& words) {
  auto a = Args::parse(words, {"log", "key", "journal"}, {});
  if (!a) return std::unexpected(a.error());
  auto log = a->required("log");
  if (!log) return std::unexpected(log.error());
  std::optional<crypto::PublicKey> key;
  if (auto k = a->get("key")) {
    auto pem = readFile(*k, 16 * 1024);
    if (!pem) return fail(pem.error().code, *k + ": " + pem.error().message);
    auto pub = crypto::PublicKey::fromPem(*pem);
    if (!pub) return fail(pub.error().code, *k + ": " + pub.error().message);
    key = std::move(*pub);
  }
  std::vector<audit::ExternalCheckpoint> external;
  if (auto j = a->get("journal")) {
    auto text = readFile(*j, 1ULL << 32);
    if (!text) return fail(text.error().code, *j + ": " + text.error().message);
    external = audit::parseJournal(*text);
  }
  auto r = audit::verify(*log, key, external);
  if (!r) {
    if (r.error().code != Errc::Malformed) return std::unexpected(r.error());
    std::cerr << "error: AUDIT_BROKEN: " << r.error().message << '\n';
    return 1;
  }
  std::cout << *log << ": ok: " << r->lines << " lines, " << r->checkpoints << " checkpoints"
            << (key ? " (signatures checked)" : " (signatures not checked: no --key)");
  if (!external.empty()) std::cout << ", " << external.size() << " journal checkpoints found";
  if (r->torn_tail) std::cout << "; an incomplete last line was ignored";
  std::cout << '\n';
  return 0;
}

}  // namespace

std::vector<Command> auditCommands() {
  return {{"audit verify", "check a console audit log's chain and checkpoints", kVerifyUsage,
           verifyCmd}};
}

}  // namespace kb::cli
