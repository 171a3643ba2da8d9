# "Solved up to step K" builds of the skeletons: each step's tests must fail until that step is
# done, and pass once it and the steps before it are. tests/steps/NN-name/step-K.patch turns
# lessons/NN-name/ (the untouched skeleton) into the skeleton with steps 1..K done: the solution's
# bodies for those steps, nothing else. For each one, at configure time the lesson's sources are
# copied into build/steps/NN-name/step-K/src and patched there; the program is built from them
# with the lesson's libraries and the shared precompiled header. CTest's cases (labels steps;NN):
#   steps.NN.K.passes_steps_1_to_K   every [step1]..[stepK] case passes against it
#   steps.NN.K.fails_step_<K+1>      every [step<K+1>] case fails against it (one that passes
#                                    belongs to an earlier step: its tag is wrong)
# The last patch is the whole lesson solved: its passes_* case runs every step's tests.
# Included at the end of tests/CMakeLists.txt, after every test_NN exists. tests/steps/README.md.
include_guard(GLOBAL)

option(WORKSHOP_STEPS "Build the 'solved up to step K' skeletons in tests/steps/ and check each step's tests" ON)

# workshop_step_build(<NN-name> <program> <K> <patch> <last K>)
function(workshop_step_build folder program step patch last)
  string(SUBSTRING "${folder}" 0 2 number)
  set(lesson "lessons_${number}_${program}")
  set(lesson_dir "${PROJECT_SOURCE_DIR}/lessons/${folder}")
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${patch}")
  set(home "${CMAKE_BINARY_DIR}/steps/${folder}/step-${step}")  # the program; its sources in src/
  set(copy "${home}/src")
  set(staging "${home}/staging")

  # Copy the skeleton's sources, patch them (git apply, as cmake/Mutants.cmake does: the ceiling
  # keeps git from finding the workshop's own repository), and replace a file in src/ only when
  # it changed, so configuring again recompiles nothing.
  file(REMOVE_RECURSE "${staging}")
  file(GLOB sources RELATIVE "${lesson_dir}" "${lesson_dir}/*.cpp" "${lesson_dir}/*.hpp")
  foreach(file IN LISTS sources)
    file(COPY "${lesson_dir}/${file}" DESTINATION "${staging}")
  endforeach()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=GIT_DIR --unset=GIT_WORK_TREE
            "GIT_CEILING_DIRECTORIES=${home}" "${GIT_EXECUTABLE}" apply --whitespace=nowarn "${patch}"
    WORKING_DIRECTORY "${staging}" RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(failed)
    # A student's edits to the skeleton are not a stale patch: these builds need the untouched
    # skeleton, so they are left out until lessons/NN-name/ is as committed again.
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" diff --quiet HEAD -- "lessons/${folder}"
      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" RESULT_VARIABLE edited OUTPUT_QUIET ERROR_QUIET)
    if(NOT edited EQUAL 0)
      file(REMOVE_RECURSE "${staging}")
      message(STATUS "steps.${number}.${step}: lessons/${folder}/ has your edits, so the "
                     "'solved up to step ${step}' build is left out (it needs the untouched skeleton)")
      return()
    endif()
    message(FATAL_ERROR "${shown} no longer applies to lessons/${folder}/:\n${output}\n"
                        "The skeleton changed under it: solve steps 1..${step} again in a copy of the "
                        "new skeleton and rewrite the patch (tests/steps/README.md says how), or "
                        "configure with -DWORKSHOP_STEPS=OFF for now.")
  endif()
  file(MAKE_DIRECTORY "${copy}")
  file(GLOB stale RELATIVE "${copy}" "${copy}/*")
  foreach(file IN LISTS stale)
    if(NOT file IN_LIST sources)
      file(REMOVE "${copy}/${file}")  # no longer in the lesson: it must not shadow a given header
    endif()
  endforeach()
  foreach(file IN LISTS sources)
    file(COPY_FILE "${staging}/${file}" "${copy}/${file}" ONLY_IF_DIFFERENT)
  endforeach()
  file(REMOVE_RECURSE "${staging}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${patch}")

  # The program: the files the patch changes, compiled from the patched copy, and the lesson's
  # own objects for the others (as cmake/Mutants.cmake does). A patch that changes a header
  # compiles every source of the lesson from the copy.
  file(STRINGS "${patch}" changed_lines REGEX "^\\+\\+\\+ ")
  set(changed "")
  set(reuse_objects TRUE)
  foreach(line IN LISTS changed_lines)
    string(REGEX REPLACE "^\\+\\+\\+ b/([^\t ]+).*$" "\\1" file "${line}")
    list(APPEND changed "${file}")
    if(NOT file MATCHES "\\.cpp$")
      set(reuse_objects FALSE)
    endif()
  endforeach()
  get_target_property(lesson_sources ${lesson} SOURCES)
  set(step_sources "")
  set(replaced "")
  foreach(source IN LISTS lesson_sources)
    cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${lesson_dir}" NORMALIZE OUTPUT_VARIABLE absolute)
    file(RELATIVE_PATH relative "${lesson_dir}" "${absolute}")
    if(relative MATCHES "^\\.\\./")
      if(NOT reuse_objects)
        list(APPEND step_sources "${absolute}")  # not the lesson's own file: use it as it is
      endif()
    elseif(NOT reuse_objects OR relative IN_LIST changed)
      list(APPEND step_sources "${copy}/${relative}")
      string(REGEX REPLACE "([.+])" "\\\\\\1" pattern "${relative}")
      list(APPEND replaced "/${pattern}\\.o$")
    endif()
  endforeach()
  if(reuse_objects)
    set(objects "$<TARGET_OBJECTS:${lesson}>")
    if(replaced)
      list(JOIN replaced "|" replaced)
      set(objects "$<FILTER:${objects},EXCLUDE,${replaced}>")
    endif()
    list(APPEND step_sources "${objects}")
  endif()
  set(target "steps_${number}_${step}")
  add_executable(${target} ${step_sources})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "${program}" RUNTIME_OUTPUT_DIRECTORY "${home}")
  get_target_property(lesson_libraries ${lesson} LINK_LIBRARIES)
  target_link_libraries(${target} PRIVATE ${lesson_libraries})
  target_include_directories(${target} BEFORE PRIVATE "${copy}")
  target_precompile_headers(${target} REUSE_FROM workshop_common)

  set(spec "")
  if(step EQUAL last)
    set(through ${last})  # the whole lesson: no step may be left
    set(name "steps.${number}.${step}.passes_every_step")
  else()
    set(through ${step})
    set(name "steps.${number}.${step}.passes_steps_1_to_${step}")
  endif()
  foreach(k RANGE 1 ${through})
    list(APPEND spec "[step${k}]")
  endforeach()
  list(JOIN spec "," spec)
  add_test(NAME "${name}" COMMAND test_${number} --program "$<TARGET_FILE:${target}>" --expect pass "${spec}")
  set_tests_properties("${name}" PROPERTIES LABELS "steps;${number}" TIMEOUT 600)
  if(step LESS last)
    math(EXPR next "${step} + 1")
    set(name "steps.${number}.${step}.fails_step_${next}")
    add_test(NAME "${name}" COMMAND test_${number} --program "$<TARGET_FILE:${target}>" --expect fail "[step${next}]")
    set_tests_properties("${name}" PROPERTIES LABELS "steps;${number}" TIMEOUT 600)
  endif()
endfunction()

if(WORKSHOP_STEPS)
  find_package(Git REQUIRED)  # git apply
  file(GLOB step_dirs LIST_DIRECTORIES true RELATIVE "${PROJECT_SOURCE_DIR}/tests/steps"
       "${PROJECT_SOURCE_DIR}/tests/steps/[0-9][0-9]-*")
  list(SORT step_dirs)
  foreach(folder IN LISTS step_dirs)
    string(SUBSTRING "${folder}" 0 2 number)
    if(NOT EXISTS "${PROJECT_SOURCE_DIR}/lessons/${folder}/lesson.json")
      continue()
    endif()
    workshop_manifest("${folder}" lesson)
    set(program "${lesson_PROGRAM}")
    if(NOT TARGET test_${number} OR NOT TARGET lessons_${number}_${program})
      continue()
    endif()
    # One patch per step of the manifest, step-1.patch to step-N.patch, and no other.
    set(last ${lesson_STEPS})
    set(steps "")
    foreach(k RANGE 1 ${last})
      if(NOT EXISTS "${PROJECT_SOURCE_DIR}/tests/steps/${folder}/step-${k}.patch")
        message(FATAL_ERROR "tests/steps/${folder}/step-${k}.patch is missing: lessons/${folder}/"
                            "lesson.json has ${last} steps, and each needs its patch.")
      endif()
      list(APPEND steps ${k})
    endforeach()
    file(GLOB patches "${PROJECT_SOURCE_DIR}/tests/steps/${folder}/step-*.patch")
    list(LENGTH patches count)
    if(NOT count EQUAL last)
      message(FATAL_ERROR "tests/steps/${folder}/ holds ${count} step patches, and "
                          "lessons/${folder}/lesson.json has ${last} steps.")
    endif()
    foreach(k IN LISTS steps)
      workshop_step_build("${folder}" "${program}" ${k} "${PROJECT_SOURCE_DIR}/tests/steps/${folder}/step-${k}.patch" ${last})
    endforeach()
  endforeach()
endif()
