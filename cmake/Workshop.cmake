# Helpers shared by every lesson, solution and test folder.
include_guard(GLOBAL)

find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

# Standalone Asio (libasio-dev) is header-only and ships no CMake package.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(workshop_asio INTERFACE)
add_library(workshop::asio ALIAS workshop_asio)
target_include_directories(workshop_asio SYSTEM INTERFACE "${ASIO_INCLUDE_DIR}")
target_compile_definitions(workshop_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
# Every coroutine frame and handler gets a block of its own size from malloc. Asio's default
# cache of a thread's freed blocks let a client's long-lived deadline or read wait settle into the
# accept loop's bigger blocks: an idle hello_http client cost 0.3 KiB more (benchmarks/README.md:
# Idle memory per client).
target_compile_definitions(workshop_asio INTERFACE ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=0
                           ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
target_link_libraries(workshop_asio INTERFACE Threads::Threads)

add_library(workshop_warnings INTERFACE)  # every target of ours links it
target_compile_options(workshop_warnings INTERFACE -Wall -Wextra -Wpedantic
                       $<$<BOOL:${WORKSHOP_WERROR}>:-Werror>)

# workshop_program(<tree> <program> SOURCES ... [LIBRARIES ...]): target <tree>_<NN>_<program>
#   (target names must be unique) builds build/<tree>/NN-name/PROGRAM, so build/lessons/NN-name/
#   PROGRAM and build/solutions/NN-name/PROGRAM sit side by side.
function(workshop_program tree program)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBRARIES" ${ARGN})
  get_filename_component(folder "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  string(SUBSTRING "${folder}" 0 2 number)
  set(target "${tree}_${number}_${program}")
  add_executable(${target} ${arg_SOURCES})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "${program}"
                        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  target_link_libraries(${target} PRIVATE workshop::common workshop_warnings ${arg_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM workshop_common)
  if(tree STREQUAL "lessons" AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # A skeleton declares what the student's code will use: clang would call its members unused.
    target_compile_options(${target} PRIVATE -Wno-unused-private-field -Wno-unused-const-variable)
  endif()
endfunction()

# workshop_manifest(<NN-name> <prefix>): lessons/NN-name/lesson.json, the one description of a
# lesson: sets <prefix>_PROGRAM (what it builds), <prefix>_STEPS (how many steps) and
# <prefix>_HUNTS (its known-bad variants, tests/mutants/NN-name/NAME.patch, in order).
function(workshop_manifest folder prefix)
  set(path "${PROJECT_SOURCE_DIR}/lessons/${folder}/lesson.json")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
  file(READ "${path}" json)
  string(JSON ${prefix}_PROGRAM GET "${json}" program)
  string(JSON ${prefix}_STEPS LENGTH "${json}" steps)
  string(JSON count LENGTH "${json}" hunts)
  set(${prefix}_HUNTS "")
  set(index 0)
  while(index LESS count)
    string(JSON name MEMBER "${json}" hunts ${index})
    list(APPEND ${prefix}_HUNTS "${name}")
    math(EXPR index "${index} + 1")
  endwhile()
  return(PROPAGATE ${prefix}_PROGRAM ${prefix}_STEPS ${prefix}_HUNTS)
endfunction()
