// kbctl: the publisher's and operator's command line (docs/contracts.md §2).

#include <iostream>

#include "bin/kbctl/commands.h"

namespace {

std::vector<kb::cli::Command> allCommands() {
  std::vector<kb::cli::Command> all;
  for (auto part : {kb::cli::keyCommands, kb::cli::rosterCommands, kb::cli::bundleCommands,
                    kb::cli::cardCommands, kb::cli::auditCommands, kb::cli::syncCommands}) {
    auto cmds = part();
    all.insert(all.end(), cmds.begin(), cmds.end());
  }
  return all;
}

void printOverview(std::ostream& out, const std::vector<kb::cli::Command>& cmds) {
  out << "kbctl - keys, trust root, signed membership bundles and cards for Kartu Bahagia\n\n"
         "usage: kbctl COMMAND [OPTIONS]    (kbctl COMMAND --help for details)\n\ncommands:\n";
  for (const auto& c : cmds) {
    std::string name = c.name;
    out << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') << c.summary
        << '\n';
  }
  out << "\nOn failure a command exits non-zero and prints 'error: CODE: reason' on stderr.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  auto cmds = allCommands();
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    printOverview(std::cout, cmds);
    return words.empty() ? 2 : 0;
  }
  // Longest match first: "root init" before a hypothetical "root".
  const kb::cli::Command* chosen = nullptr;
  std::size_t used = 0;
  for (const auto& c : cmds) {
    std::string name = c.name;
    std::size_t n = name.find(' ') == std::string::npos ? 1 : 2;
    if (words.size() < n) continue;
    std::string given = n == 1 ? words[0] : words[0] + " " + words[1];
    if (given == name && n > used) {
      chosen = &c;
      used = n;
    }
  }
  if (!chosen) {
    std::cerr << kb::formatError(
                     {kb::Errc::Usage, "unknown command '" + words[0] + "' (see kbctl --help)"})
              << '\n';
    return kb::kExitUsage;
  }
  words.erase(words.begin(), words.begin() + static_cast<long>(used));
  for (const auto& w : words) {
    if (w == "--help" || w == "-h") {
      std::cout << chosen->usage;
      return 0;
    }
  }
  try {
    auto rc = chosen->run(words);
    if (!rc) {
      std::cerr << kb::formatError(rc.error()) << '\n';
      return kb::exitCodeOf(rc.error());
    }
    return *rc;
  } catch (const std::exception& e) {
    std::cerr << kb::formatError({kb::Errc::Internal, e.what()}) << '\n';
    return 1;
  }
}
