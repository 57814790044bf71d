#pragma once
/// A console node (role `console`): the staff cache, its search index, the
/// audit log and the mTLS listener, wired together and run until SIGTERM/SIGINT.

#include <functional>
#include <string_view>

#include "config/config.h"
#include "trust/trust.h"

namespace kb::console {

struct NodeLog {
  std::function<void(std::string_view component, std::string_view message)> info, warning, error;
};

/// Runs the node with the trust root start-up accepted; returns the process
/// exit status (1 with "error: CODE: ..." on stderr when start-up fails: no
/// answer is ever given without an audit log).
int runNode(const config::Config& cfg, trust::TrustRoot root, const NodeLog& log);

}  // namespace kb::console
