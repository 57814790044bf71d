// libFuzzer target: the console's query parser and name keys over arbitrary
// bytes (the part of a request target after '?'). Any input must end in a
// query or a MALFORMED reason, never a crash; whatever passes must turn into
// an FTS5 expression of quoted [a-z0-9] terms only, so no input can reach
// SQLite as FTS syntax.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "console/name_key.h"
#include "console/query.h"
#include "console/search_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = kb::console::parseSearchQuery(text);
  if (!q) {
    if (q.error().code != kb::Errc::Malformed || q.error().message.empty()) __builtin_trap();
  } else if (q->kind == kb::console::QueryKind::Name) {
    std::vector<std::string> kel;
    for (const auto& w : kb::console::foldWords(q->kelurahan))
      kel.push_back(kb::console::variantKey(w));
    auto expr =
        kb::console::ftsExpression(kb::console::queryAlternatives(q->name), kel, q->rt, true);
    if (expr.empty()) __builtin_trap();  // the parser promised at least one word
    bool in_quotes = false;
    for (char c : expr) {
      if (c == '"') {
        in_quotes = !in_quotes;
      } else if (in_quotes && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
        __builtin_trap();
      }
    }
  }
  // The name functions take any bytes, valid UTF-8 or not.
  (void)kb::console::indexTerms(text);
  (void)kb::console::validUtf8(text);
  return 0;
}
