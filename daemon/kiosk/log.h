#pragma once
/// Journald-friendly logging to stderr: one line per message, prefixed with the
/// sd-daemon priority ("<6>kiosk: tap verdict=ACTIVE"). Callers never pass
/// personal data (names, card numbers, UIDs).

#include <string_view>

namespace kb::kiosk {

enum class LogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 };
LogLevel parseLogLevel(std::string_view name);  ///< "error", "warning", "info", "debug"; else Info

class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::Info) : level_(level) {}
  void log(LogLevel level, std::string_view component, std::string_view message) const;
  void error(std::string_view component, std::string_view message) const {
    log(LogLevel::Error, component, message);
  }
  void warning(std::string_view component, std::string_view message) const {
    log(LogLevel::Warning, component, message);
  }
  void info(std::string_view component, std::string_view message) const {
    log(LogLevel::Info, component, message);
  }
  void debug(std::string_view component, std::string_view message) const {
    log(LogLevel::Debug, component, message);
  }

 private:
  LogLevel level_;
};

}  // namespace kb::kiosk
