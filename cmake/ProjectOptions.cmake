# Interface targets carrying our compiler flags. Linked PRIVATE by our own
# targets only, so third-party headers and code never see -Werror.

add_library(kb_warnings INTERFACE)
add_library(kb::warnings ALIAS kb_warnings)
target_compile_options(kb_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wnon-virtual-dtor -Wold-style-cast -Wnull-dereference -Wformat=2)
option(KB_WERROR "Treat warnings in our code as errors" ON)
if(KB_WERROR)
  target_compile_options(kb_warnings INTERFACE -Werror)
endif()

add_library(kb_hardening INTERFACE)
add_library(kb::hardening ALIAS kb_hardening)
option(KB_HARDEN "Hardened build (_FORTIFY_SOURCE=3, assertions, stack protector)" OFF)
if(KB_HARDEN)
  target_compile_definitions(kb_hardening INTERFACE _FORTIFY_SOURCE=3 _GLIBCXX_ASSERTIONS)
  target_compile_options(kb_hardening INTERFACE -fstack-protector-strong -fstack-clash-protection -fcf-protection)
  target_link_options(kb_hardening INTERFACE -Wl,-z,relro,-z,now)
endif()

# Fuzz builds instrument every library for coverage; the fuzz targets link libFuzzer.
if(KB_BUILD_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

option(KB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(KB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# kb_add_library(NAME SOURCES... [DEPS ...]) -> target kb_NAME, alias kb::NAME.
# Every library of ours gets warnings-as-errors and the hardening flags.
function(kb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kb_${name} STATIC ${ARG_SOURCES})
  add_library(kb::${name} ALIAS kb_${name})
  target_include_directories(kb_${name} PUBLIC ${PROJECT_SOURCE_DIR}/daemon ${PROJECT_SOURCE_DIR}/drivers)
  target_link_libraries(kb_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} kb::warnings kb::hardening)
endfunction()

# kb_add_test(NAME SOURCES... DEPS ...) -> one GoogleTest binary per library.
# tests/support/test_main.cpp tells each binary where the source and build trees are.
function(kb_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/support/test_main.cpp)
  target_compile_definitions(${name} PRIVATE KB_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             KB_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock kb::warnings)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()
