#pragma once
// kbctl's commands. Each takes the words after its name and returns the exit
// status; failures are returned as Error and printed once, by main().

#include <string>
#include <vector>

#include "common/error.h"

namespace kb::cli {

using Words = std::vector<std::string>;

struct Command {
  const char* name;     ///< "keygen", "root init", ...
  const char* summary;  ///< one line for `kbctl --help`
  const char* usage;    ///< full text for `kbctl NAME --help`
  Result<int> (*run)(const Words& words);
};

// Each file contributes its commands; main() concatenates these lists.
std::vector<Command> keyCommands();     // cmd_keys.cpp: keygen, root init, root rotate
std::vector<Command> rosterCommands();  // cmd_roster.cpp: roster check, roster synth
std::vector<Command> bundleCommands();  // cmd_bundle.cpp: publish, verify, import, lookup
std::vector<Command> cardCommands();    // cmd_card.cpp: card encode, card read, card write
std::vector<Command> auditCommands();   // cmd_audit.cpp: audit verify
std::vector<Command> syncCommands();    // cmd_sync.cpp: timestamp, sync

}  // namespace kb::cli
