// GoogleTest main for every test binary. It fills in KB_SOURCE_DIR and
// KB_BINARY_DIR (unless the caller set them), so a test binary finds its data
// files and the built tools whether ctest or a developer runs it.

#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::setenv("KB_SOURCE_DIR", KB_TEST_SOURCE_DIR, 0);
  ::setenv("KB_BINARY_DIR", KB_TEST_BINARY_DIR, 0);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
