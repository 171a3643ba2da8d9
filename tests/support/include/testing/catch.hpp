#pragma once
// Catch2 as the tests use it, on Catch2 2 (Debian 12: one header) and 3 (Debian 13: a library
// with a header per part). Include this, not Catch2's headers.
#if __has_include(<catch2/catch_test_macros.hpp>)
#define WORKSHOP_CATCH2_V3 1
#include <catch2/catch_test_macros.hpp>
#else
#define WORKSHOP_CATCH2_V3 0
#include <catch2/catch.hpp>
#endif
