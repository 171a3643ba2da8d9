# Programs built from a base folder plus a patch, and the CTest checks that hold them to a promise:
#   tests/steps/NN-name/step-K.patch  the skeleton (lessons/NN-name/) solved up to step K:
#     steps.NN.K.passes_steps_1_to_K  every [step1]..[stepK] case passes (the last patch:
#                                     steps.NN.K.passes_every_step)
#     steps.NN.K.fails_step_<K+1>     every [step<K+1>] case fails (test_NN --expect fail: one that
#                                     passes belongs to an earlier step)
#   tests/mutants/NN-name/NAME.patch  a known-bad variant of the solution (solutions/NN-name/):
#     mutant.NN.NAME                  the tests catch it, and the first failure names the step the
#                                     manifest gives it (tools/loop.py variant); undone, the patch
#                                     gives the solution back (checked here), so a hunt is solvable
# A patch changes .cpp files only: they are compiled from the patched copy, and the base program's
# other objects are reused. tests/steps/README.md, tests/mutants/README.md.
include_guard(GLOBAL)

option(WORKSHOP_STEPS "Build the 'solved up to step K' skeletons in tests/steps/ and check each step's tests" ON)
option(WORKSHOP_MUTANTS "Build the known-bad variants in tests/mutants/ and check that the tests catch them" ON)

# _workshop_git_apply(<dir> <patch> <result var> [args]): git apply in <dir>, away from our repository
function(_workshop_git_apply dir patch result)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=GIT_DIR --unset=GIT_WORK_TREE "GIT_CEILING_DIRECTORIES=${dir}"
            "${GIT_EXECUTABLE}" apply -C1 --whitespace=nowarn ${ARGN} "${patch}"
    WORKING_DIRECTORY "${dir}" RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  set(${result} "${failed}" PARENT_SCOPE)
  set(${result}_OUTPUT "${output}" PARENT_SCOPE)
endfunction()

# workshop_patched_program(<target> <base target> <base dir> <output dir> PATCH <patch> | FROM <dir>)
#   PROGRAM built as <output dir>/PROGRAM: the base target with the .cpp files the patch changes,
#   patched at configure time into <output dir>/src (FROM: the same files taken from <dir>
#   instead, a student's copy). Sets <target>_SKIPPED when the base folder has uncommitted edits
#   and the patch no longer applies (a student's work is not a stale patch).
function(workshop_patched_program target base base_dir out)
  cmake_parse_arguments(arg "" "PATCH;FROM" "" ${ARGN})
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${arg_PATCH}")
  file(STRINGS "${arg_PATCH}" lines REGEX "^\\+\\+\\+ ")
  list(TRANSFORM lines REPLACE "^\\+\\+\\+ b/([^\t ]+).*$" "\\1" OUTPUT_VARIABLE files)
  if(NOT files)
    message(FATAL_ERROR "${shown} holds no unified diff (lines '--- a/FILE' and '+++ b/FILE').")
  endif()
  set(src "${out}/src")
  if(arg_FROM)
    set(src "${arg_FROM}")
  else()
    set(staging "${out}/staging")
    file(REMOVE_RECURSE "${staging}")
    foreach(file IN LISTS files)
      if(NOT file MATCHES "^[^/]+\\.cpp$")
        message(FATAL_ERROR "${shown} changes ${file}: a patch may change the folder's .cpp files only.")
      endif()
      file(COPY "${base_dir}/${file}" DESTINATION "${staging}")
    endforeach()
    _workshop_git_apply("${staging}" "${arg_PATCH}" failed)
    if(failed)
      file(REMOVE_RECURSE "${staging}")
      file(RELATIVE_PATH folder "${PROJECT_SOURCE_DIR}" "${base_dir}")
      execute_process(COMMAND "${GIT_EXECUTABLE}" diff --quiet HEAD -- "${folder}"
                      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" RESULT_VARIABLE edited OUTPUT_QUIET ERROR_QUIET)
      if(NOT edited EQUAL 0)
        message(STATUS "${shown} is left out: ${folder}/ has edits (it needs that folder as committed)")
        set(${target}_SKIPPED TRUE PARENT_SCOPE)
        return()
      endif()
      message(FATAL_ERROR "${shown} no longer applies to ${folder}/:\n${failed_OUTPUT}\n"
                          "Make the change again in a copy of the new ${folder}/ and rewrite the patch "
                          "(tests/steps/README.md, tests/mutants/README.md), or configure with "
                          "-DWORKSHOP_STEPS=OFF / -DWORKSHOP_MUTANTS=OFF for now.")
    endif()
    file(MAKE_DIRECTORY "${src}")
    foreach(file IN LISTS files)  # only a file that changed is replaced: nothing recompiles for nothing
      file(COPY_FILE "${staging}/${file}" "${src}/${file}" ONLY_IF_DIFFERENT)
    endforeach()
    _workshop_git_apply("${staging}" "${arg_PATCH}" failed -R)
    foreach(file IN LISTS files)
      execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${staging}/${file}" "${base_dir}/${file}"
                      RESULT_VARIABLE differs)
      if(failed OR differs)
        message(FATAL_ERROR "${shown}, undone, does not give ${base_dir}/${file} back:\n${failed_OUTPUT}")
      endif()
    endforeach()
    file(REMOVE_RECURSE "${staging}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_PATCH}")
  endif()
  set(sources "")
  set(replaced "")
  foreach(file IN LISTS files)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${base_dir}/${file}" "${src}/${file}")
    list(APPEND sources "${src}/${file}")
    string(REGEX REPLACE "([.+])" "\\\\\\1" pattern "${file}")
    list(APPEND replaced "/${pattern}\\.o$")
  endforeach()
  list(JOIN replaced "|" replaced)
  add_executable(${target} ${sources} "$<FILTER:$<TARGET_OBJECTS:${base}>,EXCLUDE,${replaced}>")
  get_target_property(program ${base} OUTPUT_NAME)
  get_target_property(libraries ${base} LINK_LIBRARIES)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "${program}" RUNTIME_OUTPUT_DIRECTORY "${out}")
  target_link_libraries(${target} PRIVATE ${libraries})
  target_include_directories(${target} PRIVATE "${base_dir}")
  target_precompile_headers(${target} REUSE_FROM workshop_common)
endfunction()

# _workshop_check(<name> <NN> <command...>): a CTest check labelled with its kind and lesson
function(_workshop_check name label number)
  add_test(NAME "${name}" COMMAND ${ARGN})
  set_tests_properties("${name}" PROPERTIES LABELS "${label};${number}" TIMEOUT 600)
endfunction()

if(WORKSHOP_STEPS OR WORKSHOP_MUTANTS)
  find_package(Git REQUIRED)  # git apply
  find_package(Python3 REQUIRED COMPONENTS Interpreter)  # tools/loop.py variant
endif()
file(GLOB workshop_variant_lessons LIST_DIRECTORIES true RELATIVE "${PROJECT_SOURCE_DIR}/lessons"
     "${PROJECT_SOURCE_DIR}/lessons/[0-9][0-9]-*")
list(SORT workshop_variant_lessons)
foreach(folder IN LISTS workshop_variant_lessons)
  string(SUBSTRING "${folder}" 0 2 number)
  if(NOT EXISTS "${PROJECT_SOURCE_DIR}/lessons/${folder}/lesson.json" OR NOT TARGET test_${number})
    continue()  # the lesson or its tests are not there (yet)
  endif()
  workshop_manifest("${folder}" lesson)
  set(tests "$<TARGET_FILE:test_${number}>")

  set(steps_dir "${PROJECT_SOURCE_DIR}/tests/steps/${folder}")
  if(WORKSHOP_STEPS AND TARGET lessons_${number}_${lesson_PROGRAM} AND EXISTS "${steps_dir}")
    # One patch per step of the manifest, step-1.patch to step-N.patch, and no other.
    file(GLOB patches "${steps_dir}/step-*.patch")
    list(LENGTH patches count)
    if(NOT count EQUAL lesson_STEPS)
      message(FATAL_ERROR "tests/steps/${folder}/ holds ${count} step patches; lessons/${folder}/"
                          "lesson.json has ${lesson_STEPS} steps, and each needs its patch step-K.patch.")
    endif()
    foreach(k RANGE 1 ${lesson_STEPS})
      set(target "steps_${number}_${k}")
      workshop_patched_program(${target} lessons_${number}_${lesson_PROGRAM} "${PROJECT_SOURCE_DIR}/lessons/${folder}"
                               "${CMAKE_BINARY_DIR}/steps/${folder}/step-${k}" PATCH "${steps_dir}/step-${k}.patch")
      if(${target}_SKIPPED)
        continue()
      endif()
      set(spec "")
      foreach(done RANGE 1 ${k})
        list(APPEND spec "[step${done}]")
      endforeach()
      list(JOIN spec "," spec)
      math(EXPR next "${k} + 1")
      if(k EQUAL lesson_STEPS)
        _workshop_check("steps.${number}.${k}.passes_every_step" steps ${number} ${tests} --program "$<TARGET_FILE:${target}>" "${spec}")
      else()
        _workshop_check("steps.${number}.${k}.passes_steps_1_to_${k}" steps ${number} ${tests} --program "$<TARGET_FILE:${target}>" "${spec}")
        _workshop_check("steps.${number}.${k}.fails_step_${next}" steps ${number} ${tests} --program "$<TARGET_FILE:${target}>" --expect fail "[step${next}]")
      endif()
    endforeach()
  endif()

  set(mutants_dir "${PROJECT_SOURCE_DIR}/tests/mutants/${folder}")
  if(WORKSHOP_MUTANTS AND TARGET solutions_${number}_${lesson_PROGRAM} AND EXISTS "${mutants_dir}")
    # The variants are the manifest's hunts, in its order: hunt K of ./workshop hunt is the K-th
    # (a patch it does not list: solution.lessons_agree_with_their_manifests fails).
    set(k 0)
    foreach(mistake IN LISTS lesson_HUNTS)
      math(EXPR k "${k} + 1")
      set(patch "${mutants_dir}/${mistake}.patch")
      set(base solutions_${number}_${lesson_PROGRAM} "${PROJECT_SOURCE_DIR}/solutions/${folder}")
      workshop_patched_program(mutant_${number}_${mistake} ${base} "${CMAKE_BINARY_DIR}/mutants/${folder}/${mistake}"
                               PATCH "${patch}")
      _workshop_check("mutant.${number}.${mistake}" mutant ${number} "${Python3_EXECUTABLE}"
                      "${PROJECT_SOURCE_DIR}/tools/loop.py" variant --tests ${tests}
                      --program "$<TARGET_FILE:mutant_${number}_${mistake}>" --patch "${patch}")
      # The student's fixed copy, once ./workshop hunt made it (hunts/NN-K/: K, so the folder
      # does not name the mistake), built as build/hunts/NN-K/PROGRAM.
      if(EXISTS "${PROJECT_SOURCE_DIR}/hunts/${number}-${k}")
        workshop_patched_program(hunt_${number}_${k} ${base} "${CMAKE_BINARY_DIR}/hunts/${number}-${k}"
                                 PATCH "${patch}" FROM "${PROJECT_SOURCE_DIR}/hunts/${number}-${k}")
      endif()
    endforeach()
  endif()
endforeach()
