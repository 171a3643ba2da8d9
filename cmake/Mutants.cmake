# Known-bad variants ("mutants") of the solutions: the mistakes students make, each a small patch
# tests/mutants/NN-name/<mistake>.patch against solutions/NN-name/ (first line: "# what it does").
# For each one, at configure time the patched files are copied into the build folder; the mutant
# program is the solution with those files swapped in (only they are compiled: the solution's
# other objects are reused). CTest's mutant.NN.<mistake> (labels mutant;NN) runs the lesson's
# tests against it and passes only if at least one test case fails: a mistake no test catches is
# a hole in the tests. Included at the end of tests/CMakeLists.txt, after every test_NN exists.
include_guard(GLOBAL)

option(WORKSHOP_MUTANTS "Build the known-bad variants in tests/mutants/ and check that the tests catch them" ON)
set(WORKSHOP_MUTANTS_DIR "${PROJECT_SOURCE_DIR}/tests/mutants" CACHE PATH
    "Where the NN-name/<mistake>.patch folders are (another folder tries new ones out)")

# Targets that compiled part of the solution: the program and the libraries of its own folder.
function(_workshop_solution_targets target folder_dir out)
  set(found ${target})
  get_target_property(libraries ${target} LINK_LIBRARIES)
  foreach(library IN LISTS libraries)
    if(TARGET ${library})
      get_target_property(real ${library} ALIASED_TARGET)
      if(real)
        set(library ${real})
      endif()
      get_target_property(type ${library} TYPE)
      get_target_property(dir ${library} SOURCE_DIR)
      if(NOT type STREQUAL "INTERFACE_LIBRARY" AND dir STREQUAL folder_dir)
        _workshop_solution_targets(${library} "${folder_dir}" more)
        list(APPEND found ${more})
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES found)
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# The target among `targets` whose sources hold `file` (relative to the solution folder).
function(_workshop_owner_of file folder_dir targets out)
  set(${out} "" PARENT_SCOPE)
  foreach(target IN LISTS targets)
    get_target_property(sources ${target} SOURCES)
    foreach(source IN LISTS sources)
      cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${folder_dir}" NORMALIZE OUTPUT_VARIABLE absolute)
      if(absolute STREQUAL "${folder_dir}/${file}")
        set(${out} ${target} PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
endfunction()

# workshop_mutant(<NN-name> <program> <patch> <hunt number>)
function(workshop_mutant folder program patch hunt_number)
  string(SUBSTRING "${folder}" 0 2 number)
  get_filename_component(mistake "${patch}" NAME_WE)
  set(solution "solutions_${number}_${program}")
  set(solution_dir "${PROJECT_SOURCE_DIR}/solutions/${folder}")
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${patch}")
  set(home "${CMAKE_BINARY_DIR}/mutants/${folder}/${mistake}")  # the program; its sources in src/
  set(copy "${home}/src")
  set(staging "${home}/staging")

  # The files the patch changes ("+++ b/path"): only .cpp files, so every other object is reused.
  file(STRINGS "${patch}" targets_lines REGEX "^\\+\\+\\+ ")
  set(files "")
  foreach(line IN LISTS targets_lines)
    string(REGEX REPLACE "^\\+\\+\\+ b/([^\t ]+).*$" "\\1" file "${line}")
    if(NOT file MATCHES "\\.cpp$")
      message(FATAL_ERROR "${shown} changes ${file}: a mutant may change .cpp files only "
                          "(a changed header would need every object rebuilt).")
    endif()
    list(APPEND files "${file}")
  endforeach()
  if(NOT files)
    message(FATAL_ERROR "${shown} holds no unified diff (lines '--- a/FILE' and '+++ b/FILE').")
  endif()

  # Copy those files, then apply the patch. GIT_CEILING_DIRECTORIES keeps git from finding the
  # workshop's own repository above the build folder: `git apply` then works like `patch -p1`.
  # -C1: one line of context must match, so an edit near a hunk does not break the patch.
  # The patch is applied in a staging folder; a patched file replaces its copy in src/ only when
  # it differs, so configuring again recompiles nothing that did not change.
  file(REMOVE_RECURSE "${staging}")
  foreach(file IN LISTS files)
    get_filename_component(sub "${file}" DIRECTORY)
    file(COPY "${solution_dir}/${file}" DESTINATION "${staging}/${sub}")
  endforeach()
  set(ceiling "${home}")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=GIT_DIR --unset=GIT_WORK_TREE
            "GIT_CEILING_DIRECTORIES=${ceiling}" "${GIT_EXECUTABLE}" apply -C1 --whitespace=nowarn
            "${patch}"
    WORKING_DIRECTORY "${staging}" RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(failed)
    message(FATAL_ERROR "The known-bad variant ${shown} no longer applies to solutions/${folder}/:\n"
                        "${output}\nThe solution changed under it: make the mistake again in a copy of "
                        "the new solution and rewrite the patch (tests/mutants/README.md says how), or "
                        "configure with -DWORKSHOP_MUTANTS=OFF for now.")
  endif()
  foreach(file IN LISTS files)
    get_filename_component(sub "${file}" DIRECTORY)
    file(MAKE_DIRECTORY "${copy}/${sub}")
    file(COPY_FILE "${staging}/${file}" "${copy}/${file}" ONLY_IF_DIFFERENT)
  endforeach()
  # A hunt (./workshop hunt) must be solvable: undoing the patch gives the solution back.
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=GIT_DIR --unset=GIT_WORK_TREE
            "GIT_CEILING_DIRECTORIES=${ceiling}" "${GIT_EXECUTABLE}" apply -R -C1 --whitespace=nowarn
            "${patch}"
    WORKING_DIRECTORY "${staging}" RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  foreach(file IN LISTS files)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${staging}/${file}" "${solution_dir}/${file}"
                    RESULT_VARIABLE differs)
    if(failed OR differs)
      message(FATAL_ERROR "${shown}, undone, does not give solutions/${folder}/${file} back:\n${output}")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${staging}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${patch}")

  # The mutant program: the patched files, plus the solution's objects minus the ones they replace.
  # A patched file of one of the folder's own libraries overrides that library's object at link
  # time (the linker takes a static library's member only for symbols still undefined).
  _workshop_solution_targets(${solution} "${solution_dir}" owners)
  set(target "mutant_${number}_${mistake}")
  set(sources "")
  set(replaced "")
  set(extra_libraries "")
  set(include_dirs "")
  foreach(file IN LISTS files)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${solution_dir}/${file}")
    _workshop_owner_of("${file}" "${solution_dir}" "${owners}" owner)
    if(NOT owner)
      message(FATAL_ERROR "${shown} changes ${file}, which ${solution} does not compile.")
    endif()
    list(APPEND sources "${copy}/${file}")
    get_filename_component(sub "${file}" DIRECTORY)
    list(APPEND include_dirs "${solution_dir}/${sub}")  # its headers stay in the solution
    if(owner STREQUAL solution)
      string(REGEX REPLACE "([.+])" "\\\\\\1" pattern "${file}")
      list(APPEND replaced "/${pattern}\\.o$")
    else()
      get_target_property(owner_libraries ${owner} LINK_LIBRARIES)
      list(APPEND extra_libraries ${owner_libraries} ${owner})
    endif()
  endforeach()
  set(objects "$<TARGET_OBJECTS:${solution}>")
  if(replaced)
    list(JOIN replaced "|" replaced)
    set(objects "$<FILTER:${objects},EXCLUDE,${replaced}>")
  endif()
  get_target_property(solution_libraries ${solution} LINK_LIBRARIES)
  list(REMOVE_DUPLICATES include_dirs)
  # The variant, and the student's fixed copy of it once ./workshop hunt has made one
  # (hunts/NN-K/, K its place among the lesson's variants, so the folder does not name the
  # mistake: target hunt_NN_K, built as build/hunts/NN-K/PROGRAM).
  set(hunt "${PROJECT_SOURCE_DIR}/hunts/${number}-${hunt_number}")
  set(variants "${target}|${home}|${copy}")
  if(EXISTS "${hunt}")
    list(APPEND variants "hunt_${number}_${hunt_number}|${CMAKE_BINARY_DIR}/hunts/${number}-${hunt_number}|${hunt}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${hunt}")
  endif()
  foreach(variant IN LISTS variants)
    string(REPLACE "|" ";" variant "${variant}")
    list(GET variant 0 name)
    list(GET variant 1 where)
    list(GET variant 2 from)
    list(TRANSFORM sources REPLACE "^${copy}/" "${from}/" OUTPUT_VARIABLE variant_sources)
    add_executable(${name} ${variant_sources} "${objects}")
    set_target_properties(${name} PROPERTIES OUTPUT_NAME "${program}" RUNTIME_OUTPUT_DIRECTORY "${where}")
    target_link_libraries(${name} PRIVATE ${solution_libraries} ${extra_libraries})
    target_include_directories(${name} PRIVATE ${include_dirs})
    target_precompile_headers(${name} REUSE_FROM workshop_common)
  endforeach()

  # The check: the lesson's tests must fail on it, and the first failure be about the step the
  # patch's first line names ("# step K: ..."), as ./workshop check would tell the student
  # (tools/loop.py variant). Without python3, only the first half (test_NN --expect caught).
  if(Python3_Interpreter_FOUND)
    add_test(NAME "mutant.${number}.${mistake}"
             COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/tools/loop.py" variant
                     --tests "$<TARGET_FILE:test_${number}>" --program "$<TARGET_FILE:${target}>"
                     --patch "${patch}")
  else()
    add_test(NAME "mutant.${number}.${mistake}"
             COMMAND test_${number} --program "$<TARGET_FILE:${target}>" --expect caught)
  endif()
  set_tests_properties("mutant.${number}.${mistake}" PROPERTIES LABELS "mutant;${number}" TIMEOUT 600)
endfunction()

if(WORKSHOP_MUTANTS)
  find_package(Git REQUIRED)  # git apply
  find_package(Python3 COMPONENTS Interpreter)  # tools/loop.py variant
  file(GLOB mutant_dirs LIST_DIRECTORIES true RELATIVE "${WORKSHOP_MUTANTS_DIR}"
       "${WORKSHOP_MUTANTS_DIR}/[0-9][0-9]-*")
  list(SORT mutant_dirs)
  foreach(folder IN LISTS mutant_dirs)
    string(SUBSTRING "${folder}" 0 2 number)
    if(NOT EXISTS "${PROJECT_SOURCE_DIR}/solutions/${folder}/CMakeLists.txt" OR
       NOT EXISTS "${PROJECT_SOURCE_DIR}/lessons/${folder}/lesson.json")
      continue()
    endif()
    workshop_manifest("${folder}" lesson)
    set(program "${lesson_PROGRAM}")
    if(NOT TARGET test_${number} OR NOT TARGET solutions_${number}_${program})
      continue()  # the lesson, its solution or its tests are not there (yet)
    endif()
    # The variants are the manifest's hunts, in its order (hunt K of ./workshop hunt is the K-th).
    file(GLOB on_disk RELATIVE "${WORKSHOP_MUTANTS_DIR}/${folder}" "${WORKSHOP_MUTANTS_DIR}/${folder}/*.patch")
    list(TRANSFORM on_disk REPLACE "\\.patch$" "")
    set(patches "")
    foreach(mistake IN LISTS lesson_HUNTS)
      list(APPEND patches "${WORKSHOP_MUTANTS_DIR}/${folder}/${mistake}.patch")
      list(REMOVE_ITEM on_disk "${mistake}")
    endforeach()
    if(on_disk)
      message(FATAL_ERROR "tests/mutants/${folder}/ holds ${on_disk}.patch, which "
                          "lessons/${folder}/lesson.json does not list among its hunts.")
    endif()
    set(hunt_number 0)
    foreach(patch IN LISTS patches)
      math(EXPR hunt_number "${hunt_number} + 1")
      workshop_mutant("${folder}" "${program}" "${patch}" ${hunt_number})
    endforeach()
  endforeach()
endif()
