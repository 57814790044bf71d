#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace kb::metrics {
namespace {

TEST(Registry, WritesFamiliesInDeclarationOrderWithHelpTypeAndSortedSamples) {
  Registry r;
  r.declare("kb_b_total", Type::Counter, "B things.");
  r.declare("kb_a", Type::Gauge, "A level.");
  r.add("kb_b_total", {{"code", "Z"}});
  r.add("kb_b_total", {{"code", "A"}}, 2);
  r.add("kb_b_total", {{"code", "Z"}});
  r.set("kb_a", -3);
  EXPECT_EQ(r.text(),
            "# HELP kb_b_total B things.\n# TYPE kb_b_total counter\n"
            "kb_b_total{code=\"A\"} 2\nkb_b_total{code=\"Z\"} 2\n"
            "# HELP kb_a A level.\n# TYPE kb_a gauge\nkb_a -3\n");
  EXPECT_EQ(r.value("kb_b_total", {{"code", "Z"}}), 2);
  EXPECT_EQ(r.value("kb_b_total", {{"code", "Q"}}), 0);
}

TEST(Registry, EmptyCounterKeepsItsHeaderEmptyGaugeIsLeftOut) {
  Registry r;
  r.declare("kb_c_total", Type::Counter, "C.");
  r.declare("kb_g", Type::Gauge, "G.");
  EXPECT_EQ(r.text(), "# HELP kb_c_total C.\n# TYPE kb_c_total counter\n");
  r.set("kb_g", 5);
  EXPECT_NE(r.text().find("\nkb_g 5\n"), std::string::npos);
  r.clear("kb_g");
  EXPECT_EQ(r.text().find("kb_g"), std::string::npos);
}

TEST(Registry, DeclaringTwiceKeepsSamplesAndUndeclaredNamesAreRefused) {
  Registry r;
  r.declare("kb_x_total", Type::Counter, "X.");
  r.add("kb_x_total");
  r.declare("kb_x_total", Type::Counter, "X.");
  EXPECT_EQ(r.value("kb_x_total"), 1);
  EXPECT_THROW(r.add("kb_nope_total"), std::logic_error);
  EXPECT_THROW(r.set("kb_nope", 1), std::logic_error);
}

TEST(Registry, CollectorsCopyTheirValuesInOnEveryText) {
  Registry r;
  std::int64_t outside = 1;
  r.addCollector([&outside](Registry& reg) {
    reg.declare("kb_outside", Type::Gauge, "Kept elsewhere.");
    reg.set("kb_outside", outside);
  });
  EXPECT_NE(r.text().find("\nkb_outside 1\n"), std::string::npos);
  outside = 7;
  EXPECT_NE(r.text().find("\nkb_outside 7\n"), std::string::npos);
}

TEST(Registry, LabelValuesAreEscaped) {
  EXPECT_EQ(renderLabels({{"a", "x\"y\\z\nw"}, {"b", "1"}}), "{a=\"x\\\"y\\\\z\\nw\",b=\"1\"}");
  EXPECT_EQ(renderLabels({}), "");
}

TEST(Registry, ConcurrentAddsAreAllCounted) {
  Registry r;
  r.declare("kb_n_total", Type::Counter, "N.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) r.add("kb_n_total", {{"t", "same"}});
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.value("kb_n_total", {{"t", "same"}}), 4000);
}

}  // namespace
}  // namespace kb::metrics
