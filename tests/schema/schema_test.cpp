#include "schema/schema.h"

#include <gtest/gtest.h>

namespace kb::schema {
namespace {

TEST(Schema, CardNumberRule) {
  EXPECT_TRUE(isCardNo("KB-1571-0000001"));
  EXPECT_TRUE(isCardNo("ABC123"));
  EXPECT_TRUE(isCardNo(std::string(24, 'A')));
  EXPECT_FALSE(isCardNo("AB123"));  // too short
  EXPECT_FALSE(isCardNo(std::string(25, 'A')));
  EXPECT_FALSE(isCardNo("kb-1571-0000001"));  // lower case
  EXPECT_FALSE(isCardNo("KB 1571 0000001"));
  EXPECT_FALSE(isCardNo("KB-1571-000000\xC3\x9C"));
}

TEST(Schema, ClosedListsAndTheirDocument) {
  EXPECT_TRUE(isCategory("pekerja_rentan"));
  EXPECT_FALSE(isCategory("Pekerja_rentan"));
  EXPECT_TRUE(isProgram("JHT"));
  EXPECT_FALSE(isGuidanceProgram("JHT"));
  EXPECT_TRUE(isGuidanceProgram("JKN"));
  EXPECT_TRUE(isCardStatus("revoked"));
  EXPECT_FALSE(isCoverageStatus("revoked"));
  EXPECT_EQ(listText(kCoverageStatuses), "active, inactive or ended");
  auto j = toJson();
  EXPECT_EQ(j["categories"].size(), kCategories.size());
  EXPECT_EQ(j["guidance_programs"], nlohmann::json::array({"JKK", "JKM", "JKN"}));
  EXPECT_EQ(j["card_no"]["max_length"], 24);
}

}  // namespace
}  // namespace kb::schema
