#pragma once
// The `data` object of a running daemon's /api/state, and a bounded wait for it,
// for the tests that watch a daemon sync.

#include <chrono>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/web/http_client.h"

namespace kb::sync::testing {

inline nlohmann::json stateData(unsigned short port) {
  auto r = kb::testing::httpGet(port, "/api/state");
  return r.status == 200 ? nlohmann::json::parse(r.body)["data"] : nlohmann::json();
}

/// Polls /api/state until `ok` holds (at most 30 s; never asserts a duration).
inline bool waitForData(unsigned short port, const std::function<bool(const nlohmann::json&)>& ok) {
  for (int i = 0; i < 600; ++i) {
    auto d = stateData(port);
    if (d.is_object() && ok(d)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace kb::sync::testing
