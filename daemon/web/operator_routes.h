#pragma once
/// The kelurahan operator's API (docs/contracts.md §4, "Operator"): POST
/// /api/operator/login {"pin"} opens a session, POST /api/operator/status
/// {"token"} answers the kiosk's health (reader, data age, last sync and its
/// typed error, disk free, last USB import), POST /api/operator/sync {"token"}
/// asks the background sync to run now, POST /api/operator/logout {"token"}.
/// Nothing here changes data. The same Host/Origin/Content-Type checks as every
/// other request apply (http_session.cpp).

#include <filesystem>
#include <functional>

#include "web/broadcaster.h"
#include "web/operator_gate.h"
#include "web/router.h"

namespace kb::web {

struct OperatorApi {
  Broadcaster& broadcaster;
  OperatorGate& gate;
  std::function<void()> sync_now;    ///< empty: no mirror configured (sync answers 409)
  std::filesystem::path state_dir;   ///< disk free is reported for its filesystem
  std::filesystem::path usb_result;  ///< the last USB import's result (kbctl import-usb)
};

/// `api` must outlive the router. Without an operator PIN every route answers 404.
void addOperatorRoutes(Router& router, const OperatorApi& api);

}  // namespace kb::web
