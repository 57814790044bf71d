#pragma once
/// The kiosk's HTTP API (docs/contracts.md §4–5) on a Router:
/// /api/state, /healthz, /metrics, /api/qr/<program>.svg, POST /api/speech,
/// GET /api/printer, POST /api/print, the UI's static
/// files, and the demo endpoints only when a DemoControl is given.

#include <string>

#include "kiosk/demo_control.h"
#include "kiosk/service.h"
#include "printer/escpos_printer.h"
#include "speech/speech.h"
#include "web/broadcaster.h"
#include "web/http_session.h"
#include "web/router.h"

namespace kb::web {

struct KioskApi {
  kiosk::KioskService& kiosk;
  Broadcaster& broadcaster;
  const HttpCounters& counters;
  std::string ui_dir;
  std::string public_guidance_url;
  kiosk::DemoControl* demo = nullptr;  ///< null outside --demo: the endpoints do not exist
  speech::SpeechOptions speech{};      ///< POST /api/speech: what the screen shows, read aloud
  printer::PrinterOptions printer{};   ///< POST /api/print: the slip; device empty = no printer
};

/// `api` must outlive the router.
void addKioskRoutes(Router& router, const KioskApi& api);

/// The management listener's routes: GET /metrics and GET /healthz (the same
/// handlers as the kiosk's) and nothing else; every other path is 404.
void addManagementRoutes(Router& router, const KioskApi& api);

}  // namespace kb::web
