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

# GCC 12 false positives inside inlined Asio 1.74 code: its coroutine-frame allocator
# (new in thread_info_base, matching delete in awaitable_frame_base) seen as a
# mismatch, and scheduler::work_started's thread_info seen as possibly null.
# Every target that compiles Asio code links this PRIVATE, after kb::warnings (a
# later -Wno-... wins over kb::warnings' -W... on the command line).
add_library(kb_asio_warnings INTERFACE)
add_library(kb::asio_warnings ALIAS kb_asio_warnings)
target_compile_options(kb_asio_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete -Wno-null-dereference>)

# Sanitizers, for the asan and fuzz presets. Every library of ours links this
# PUBLIC, so our code and every binary linking it are instrumented; third-party
# code is not. Fuzz builds also instrument for libFuzzer's coverage; the fuzz
# targets add -fsanitize=fuzzer themselves.
add_library(kb_sanitize INTERFACE)
add_library(kb::sanitize ALIAS kb_sanitize)
option(KB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(KB_BUILD_FUZZ)
  target_compile_options(kb_sanitize INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(kb_sanitize INTERFACE -fsanitize=address,undefined)
elseif(KB_SANITIZE)
  target_compile_options(kb_sanitize INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(kb_sanitize INTERFACE -fsanitize=address,undefined)
endif()

# kb_add_library(NAME SOURCES... [DEPS ...]) -> target kb_NAME, alias kb::NAME.
# Every library of ours gets warnings-as-errors and the hardening flags. Headers
# are included as "concern/file.h" from daemon/; a library under drivers/ also
# puts drivers/ on the path of what links it ("reader.h", "sim/sim_reader.h"), and
# only of that.
function(kb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kb_${name} STATIC ${ARG_SOURCES})
  add_library(kb::${name} ALIAS kb_${name})
  target_include_directories(kb_${name} PUBLIC ${PROJECT_SOURCE_DIR}/daemon)
  string(FIND "${CMAKE_CURRENT_SOURCE_DIR}/" "${PROJECT_SOURCE_DIR}/drivers/" kb_drivers_at)
  if(kb_drivers_at EQUAL 0)
    target_include_directories(kb_${name} PUBLIC ${PROJECT_SOURCE_DIR}/drivers)
  endif()
  target_link_libraries(kb_${name} PUBLIC ${ARG_DEPS} kb::sanitize
                        PRIVATE ${ARG_PRIVATE_DEPS} kb::warnings kb::hardening)
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
