// The one translation unit of kb_pch_asio / kb_pch_asio_test (cmake/ProjectOptions.cmake):
// empty, it only gives CMake a target to build the precompiled header with.
