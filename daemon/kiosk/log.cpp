#include "kiosk/log.h"

#include <cstdio>
#include <string>

namespace kb::kiosk {

LogLevel parseLogLevel(std::string_view name) {
  if (name == "error") return LogLevel::Error;
  if (name == "warning") return LogLevel::Warning;
  if (name == "debug") return LogLevel::Debug;
  return LogLevel::Info;
}

void Logger::log(LogLevel level, std::string_view component, std::string_view message) const {
  if (static_cast<int>(level) > static_cast<int>(level_)) return;
  // Built by appends: GCC 12 at -O3 flags `"<" + std::string` with a false
  // -Wrestrict (GCC bug 105329), which broke the release build.
  std::string line(1, '<');
  line.append(std::to_string(static_cast<int>(level)))
      .append(">")
      .append(component)
      .append(": ")
      .append(message);
  // Newlines would split one message into several journal entries.
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  line.push_back('\n');
  // One write per line keeps lines whole when several threads log.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace kb::kiosk
