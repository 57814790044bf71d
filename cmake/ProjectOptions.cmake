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
# Every library of ours gets warnings-as-errors and the hardening flags.
#
# Headers are included as "concern/file.h" ("cache/store.h", "sim/sim_reader.h";
# the reader library at drivers/ itself: "reader.h"). Each library puts only its
# own folder on the include path of what links it, through an include root of its
# own in the build tree that holds one link named as its includes spell it
# (build/include/kb_cache/cache -> daemon/cache). So a target sees the headers of
# the libraries it links and of no others, and the compiler refuses the rest.
function(kb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kb_${name} STATIC ${ARG_SOURCES})
  add_library(kb::${name} ALIAS kb_${name})
  target_link_libraries(kb_${name} PUBLIC ${ARG_DEPS} kb::sanitize
                        PRIVATE ${ARG_PRIVATE_DEPS} kb::warnings kb::hardening)
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT folder MATCHES "^(daemon|drivers)(/|$)")
    return()  # test support libraries put their own folder on the path
  endif()
  string(REGEX REPLACE "^(daemon|drivers)/?" "" concern "${folder}")
  set(root ${PROJECT_BINARY_DIR}/include/kb_${name})
  file(MAKE_DIRECTORY ${root})
  if(concern STREQUAL "")  # drivers/ itself: its headers one by one
    file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
    foreach(header ${headers})
      get_filename_component(header_name ${header} NAME)
      file(CREATE_LINK ${header} ${root}/${header_name} SYMBOLIC)
    endforeach()
  else()
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${concern} SYMBOLIC)
  endif()
  target_include_directories(kb_${name} PUBLIC ${root})
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

# Precompiled Boost.Asio/Beast (and nlohmann/json) headers for the targets that
# compile Asio code, i.e. those that link kb::asio_warnings. Parsing these headers
# is a fifth to a quarter of each such file's compile time; the header is built
# once per build tree, by kb_pch_asio (libraries and programs) or kb_pch_asio_test
# (GoogleTest binaries), and reused by every such target (REUSE_FROM). A reused
# PCH must be built with the same flags and macros as its users: the helpers link
# what those targets link (warnings, hardening or gtest, sanitizers), and
# kb_use_asio_pch gives every user the two Boost macros the header depends on.
# GCC only (clang refuses a PCH built with other flags instead of ignoring it);
# CMake passes -Winvalid-pch, so in the dev preset an unusable PCH is an error,
# not a silent slowdown. Called once, at the end of the top-level CMakeLists.txt.
# Off in the release preset: there (-O3, no -g) it saved only 6 % of the build's CPU
# time, and the packaged binaries stay exactly as they are built without it (the
# header would put Asio's guarded static objects into a few more files).
option(KB_PCH "Precompiled Asio/Beast headers for the targets compiling Asio code (GCC)" ON)
set(kb_asio_pch_headers
  <algorithm> <chrono> <expected> <filesystem> <functional> <map> <memory> <mutex> <optional>
  <string> <string_view> <thread> <vector>
  <nlohmann/json.hpp>
  <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp> <boost/asio/detached.hpp>
  <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp> <boost/asio/post.hpp>
  <boost/asio/redirect_error.hpp> <boost/asio/signal_set.hpp> <boost/asio/steady_timer.hpp>
  <boost/asio/strand.hpp> <boost/asio/use_awaitable.hpp> <boost/asio/ssl.hpp>
  <boost/beast/core.hpp> <boost/beast/http.hpp> <boost/beast/websocket.hpp> <boost/beast/ssl.hpp>)
set(kb_asio_pch_macros BOOST_ALL_NO_LIB BOOST_BEAST_USE_STD_STRING_VIEW)

function(kb_all_targets out dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    kb_all_targets(sub_targets ${sub})
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(kb_use_asio_pch)
  if(NOT KB_PCH OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  kb_all_targets(targets ${PROJECT_SOURCE_DIR})
  foreach(target ${targets})
    get_target_property(libs ${target} LINK_LIBRARIES)
    if(NOT libs OR NOT "kb::asio_warnings" IN_LIST libs)
      continue()
    endif()
    if("GTest::gtest" IN_LIST libs)
      set(helper kb_pch_asio_test)
    else()
      set(helper kb_pch_asio)
    endif()
    if(NOT TARGET ${helper})
      add_library(${helper} OBJECT ${PROJECT_SOURCE_DIR}/cmake/asio_pch.cpp)
      target_compile_definitions(${helper} PRIVATE ${kb_asio_pch_macros})
      target_link_libraries(${helper} PRIVATE Boost::boost nlohmann_json::nlohmann_json OpenSSL::SSL
                                              kb::sanitize kb::warnings kb::asio_warnings)
      if(helper STREQUAL "kb_pch_asio_test")
        find_package(GTest REQUIRED)
        target_link_libraries(${helper} PRIVATE GTest::gtest GTest::gmock)
        target_precompile_headers(${helper} PRIVATE ${kb_asio_pch_headers} <gtest/gtest.h>)
      else()
        target_link_libraries(${helper} PRIVATE kb::hardening)
        target_precompile_headers(${helper} PRIVATE ${kb_asio_pch_headers})
      endif()
    endif()
    target_compile_definitions(${target} PRIVATE ${kb_asio_pch_macros})
    target_precompile_headers(${target} REUSE_FROM ${helper})
    # The header includes Asio's SSL error codes, which call into libssl.
    target_link_libraries(${target} PRIVATE OpenSSL::SSL)
  endforeach()
endfunction()
