# Programs built from a base folder plus a patch, with the CTest checks that hold them to their
# promise (tests/steps/README.md, tests/mutants/README.md): the skeleton solved up to step K
# (steps.NN.K.*: the cases of steps 1..K pass, those of step K+1 fail) and the solution's known-bad
# variants (mutant.NN.NAME: the tests catch it, and the first failure names the manifest's step).
include_guard(GLOBAL)

option(WORKSHOP_STEPS "Check each step's tests on the skeleton solved up to it (tests/steps/)" ON)
option(WORKSHOP_MUTANTS "Check that the tests catch the known-bad variants (tests/mutants/)" ON)
if(WORKSHOP_STEPS OR WORKSHOP_MUTANTS)
  find_package(Git REQUIRED)  # git apply
  find_package(Python3 REQUIRED COMPONENTS Interpreter)  # tools/loop.py variant
endif()

# _workshop_git_apply(<dir> <patch> <result var> [args]): git apply in <dir>, not in our repository
function(_workshop_git_apply dir patch result)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=GIT_DIR --unset=GIT_WORK_TREE
            "GIT_CEILING_DIRECTORIES=${dir}" "${GIT_EXECUTABLE}" apply -C1 --whitespace=nowarn
            ${ARGN} "${patch}"
    WORKING_DIRECTORY "${dir}" RESULT_VARIABLE ${result}
    OUTPUT_VARIABLE ${result}_OUTPUT ERROR_VARIABLE ${result}_OUTPUT)
  return(PROPAGATE ${result} ${result}_OUTPUT)
endfunction()

# workshop_patched_program(<target> <base target> <out dir> PATCH <patch> [FROM <dir>])
#   <out dir>/PROGRAM: the base program with the .cpp files the patch changes (no other file)
#   compiled from <out dir>/src, patched at configure time (the patch, undone, must give them back:
#   a hunt is solvable), or from <dir> (FROM: a student's copy). Sets <target>_SKIPPED when the
#   patch no longer applies as the base folder has uncommitted edits (a student's work).
function(workshop_patched_program target base out)
  cmake_parse_arguments(arg "" "PATCH;FROM" "" ${ARGN})
  get_target_property(base_dir ${base} SOURCE_DIR)
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${arg_PATCH}")
  file(RELATIVE_PATH folder "${PROJECT_SOURCE_DIR}" "${base_dir}")
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
        message(FATAL_ERROR "${shown} changes ${file}: a patch may change ${folder}/*.cpp only.")
      endif()
      file(COPY "${base_dir}/${file}" DESTINATION "${staging}")
    endforeach()
    _workshop_git_apply("${staging}" "${arg_PATCH}" failed)
    if(failed)
      file(REMOVE_RECURSE "${staging}")
      execute_process(COMMAND "${GIT_EXECUTABLE}" diff --quiet HEAD -- "${folder}"
                      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" RESULT_VARIABLE edited
                      OUTPUT_QUIET ERROR_QUIET)
      if(NOT edited EQUAL 0)
        message(STATUS "${shown} is left out while ${folder}/ has uncommitted edits")
        set(${target}_SKIPPED TRUE PARENT_SCOPE)
        return()
      endif()
      message(FATAL_ERROR "${shown} no longer applies to ${folder}/:\n${failed_OUTPUT}\nMake the "
              "change again in a copy of the new ${folder}/ and rewrite the patch (its README), "
              "or configure with -DWORKSHOP_STEPS=OFF / -DWORKSHOP_MUTANTS=OFF for now.")
    endif()
    file(MAKE_DIRECTORY "${src}")
    foreach(file IN LISTS files)  # a file that did not change is left alone: nothing recompiles
      file(COPY_FILE "${staging}/${file}" "${src}/${file}" ONLY_IF_DIFFERENT)
    endforeach()
    _workshop_git_apply("${staging}" "${arg_PATCH}" failed -R)
    foreach(file IN LISTS files)
      execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${staging}/${file}"
                      "${base_dir}/${file}" RESULT_VARIABLE differs)
      if(failed OR differs)
        message(FATAL_ERROR "${shown}, undone, does not give ${folder}/${file} back:\n"
                "${failed_OUTPUT}")
      endif()
    endforeach()
    file(REMOVE_RECURSE "${staging}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_PATCH}")
  endif()
  list(TRANSFORM files PREPEND "${src}/" OUTPUT_VARIABLE sources)
  list(TRANSFORM files PREPEND "${base_dir}/" OUTPUT_VARIABLE originals)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${originals} ${sources})
  list(TRANSFORM files REPLACE "([.+])" "\\\\\\1" OUTPUT_VARIABLE replaced)  # NAME.cpp, as a regex
  list(TRANSFORM replaced PREPEND "/")
  list(TRANSFORM replaced APPEND "\\.o$")  # its object in the base, left out
  list(JOIN replaced "|" replaced)
  add_executable(${target} ${sources} "$<FILTER:$<TARGET_OBJECTS:${base}>,EXCLUDE,${replaced}>")
  get_target_property(program ${base} OUTPUT_NAME)
  get_target_property(libraries ${base} LINK_LIBRARIES)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "${program}"
                        RUNTIME_OUTPUT_DIRECTORY "${out}")
  target_link_libraries(${target} PRIVATE ${libraries})
  target_include_directories(${target} PRIVATE "${base_dir}")
  target_precompile_headers(${target} REUSE_FROM workshop_common)
endfunction()

# _workshop_check(<kind>.<NN>.<what> <command...>): a CTest check labelled <kind> and <NN>
function(_workshop_check name)
  string(REGEX REPLACE "^([^.]+)\\.([^.]+)\\..*$" "\\1;\\2" labels "${name}")
  add_test(NAME "${name}" COMMAND ${ARGN})
  set_tests_properties("${name}" PROPERTIES LABELS "${labels}" TIMEOUT 600)
endfunction()

# workshop_variants(<NN-name>): the lesson's step and mutant programs and their checks; each
# lesson's tests (test_NN) call it.
function(workshop_variants folder)
  string(SUBSTRING "${folder}" 0 2 number)
  workshop_manifest("${folder}" lesson)
  set(tests "$<TARGET_FILE:test_${number}>")
  set(steps_dir "${PROJECT_SOURCE_DIR}/tests/steps/${folder}")
  set(skeleton lessons_${number}_${lesson_PROGRAM})
  if(WORKSHOP_STEPS AND TARGET ${skeleton} AND EXISTS "${steps_dir}")
    file(GLOB patches "${steps_dir}/step-*.patch")
    list(LENGTH patches count)
    if(NOT count EQUAL lesson_STEPS)
      message(FATAL_ERROR "tests/steps/${folder}/ holds ${count} step patches; lessons/${folder}/"
              "lesson.json has ${lesson_STEPS} steps, and each needs its patch step-K.patch.")
    endif()
    set(done "")
    foreach(k RANGE 1 ${lesson_STEPS})
      list(APPEND done "[step${k}]")
      list(JOIN done "," spec)
      workshop_patched_program(steps_${number}_${k} ${skeleton}
                               "${CMAKE_BINARY_DIR}/steps/${folder}/step-${k}"
                               PATCH "${steps_dir}/step-${k}.patch")
      set(run ${tests} --program "$<TARGET_FILE:steps_${number}_${k}>")
      set(step "steps.${number}.${k}")
      math(EXPR next "${k} + 1")
      if(steps_${number}_${k}_SKIPPED)
        continue()
      elseif(k EQUAL lesson_STEPS)
        _workshop_check("${step}.passes_every_step" ${run} "${spec}")
      else()
        _workshop_check("${step}.passes_steps_1_to_${k}" ${run} "${spec}")
        _workshop_check("${step}.fails_step_${next}" ${run} --expect fail "[step${next}]")
      endif()
    endforeach()
  endif()

  # The variants are the manifest's hunts, in its order: hunt K of ./workshop hunt is the K-th.
  set(solution solutions_${number}_${lesson_PROGRAM})
  set(mutants_dir "${PROJECT_SOURCE_DIR}/tests/mutants/${folder}")
  if(WORKSHOP_MUTANTS AND TARGET ${solution} AND EXISTS "${mutants_dir}")
    set(k 0)
    foreach(mistake IN LISTS lesson_HUNTS)
      math(EXPR k "${k} + 1")
      set(patch "${mutants_dir}/${mistake}.patch")
      workshop_patched_program(mutant_${number}_${mistake} ${solution}
                               "${CMAKE_BINARY_DIR}/mutants/${folder}/${mistake}" PATCH "${patch}")
      if(NOT mutant_${number}_${mistake}_SKIPPED)  # left out while solutions/NN-name/ is edited
        _workshop_check("mutant.${number}.${mistake}" "${Python3_EXECUTABLE}"
                        "${PROJECT_SOURCE_DIR}/tools/loop.py" variant --tests ${tests}
                        --program "$<TARGET_FILE:mutant_${number}_${mistake}>" --patch "${patch}")
      endif()
      # The student's fix of hunt K, once ./workshop hunt made hunts/NN-K/ (it names no mistake)
      set(copy "${PROJECT_SOURCE_DIR}/hunts/${number}-${k}")
      if(EXISTS "${copy}")
        workshop_patched_program(hunt_${number}_${k} ${solution}
                                 "${CMAKE_BINARY_DIR}/hunts/${number}-${k}" PATCH "${patch}"
                                 FROM "${copy}")
      endif()
    endforeach()
  endif()
endfunction()
