# convpipe_add_pipeline(NAME SPEC file.json [TARGETS x86 cuda] [SCHEDULE_DIR dir])
#
# Compiles a pipeline spec ahead of time with the convpipe Generator and makes
# a library target NAME. Linking NAME is all an application needs for
# convpipe::Pipeline::open("NAME") to find it: NAME is an OBJECT library whose
# registration object goes straight into the application's link (a static
# archive member would be dropped), and it carries the generated static
# libraries and the convpipe runtime.
#
# Schedules: SCHEDULE_DIR/x86/NAME.json, when present, replaces the heuristic
# defaults (SCHEDULE_DIR defaults to the schedules/ folder of the project that
# defines this function, or CONVPIPE_SCHEDULE_DIR).
#
# Expects CONVPIPE_GENERATOR_TARGET (the generator executable target) and
# CONVPIPE_RUNTIME_TARGET to be set by whoever includes this file.

# x86: AVX-512, AVX2+FMA and SSE4.1 in one library; the last is the fallback
# and must run everywhere. Targets are named explicitly, never "host".
set(CONVPIPE_X86_TARGETS
    "x86-64-linux-avx512_skylake-no_runtime-user_context"
    "x86-64-linux-avx2-fma-f16c-no_runtime-user_context"
    "x86-64-linux-sse41-no_runtime-user_context")
set(CONVPIPE_CUDA_TARGET "x86-64-linux-sse41-cuda-cuda_capability_70-no_runtime-user_context")

function(convpipe_add_pipeline NAME)
  cmake_parse_arguments(ARG "" "SPEC;SCHEDULE_DIR" "TARGETS" ${ARGN})
  if(NOT ARG_SPEC)
    message(FATAL_ERROR "convpipe_add_pipeline(${NAME}): SPEC file.json is required")
  endif()
  if(NOT ARG_TARGETS)
    set(ARG_TARGETS x86)
  endif()
  if(NOT ARG_SCHEDULE_DIR)
    set(ARG_SCHEDULE_DIR "${CONVPIPE_SCHEDULE_DIR}")
  endif()
  cmake_path(ABSOLUTE_PATH ARG_SPEC BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} NORMALIZE OUTPUT_VARIABLE spec)
  if(NOT EXISTS "${spec}")
    message(FATAL_ERROR "convpipe_add_pipeline(${NAME}): spec ${spec} does not exist")
  endif()
  set(gen ${CONVPIPE_GENERATOR_TARGET})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/convpipe_${NAME})
  # Weight files next to the spec are inputs too.
  get_filename_component(spec_dir ${spec} DIRECTORY)
  file(GLOB weight_files ${spec_dir}/*.npy)

  set(libs)
  set(headers)
  set(defs)
  set(families)
  foreach(family IN LISTS ARG_TARGETS)
    if(family STREQUAL "x86")
      list(JOIN CONVPIPE_X86_TARGETS "," targets)
      set(fn ${NAME})
    elseif(family STREQUAL "cuda")
      set(targets ${CONVPIPE_CUDA_TARGET})
      set(fn ${NAME}_cuda)
    else()
      message(FATAL_ERROR "convpipe_add_pipeline(${NAME}): unknown target family '${family}' (x86, cuda)")
    endif()
    set(schedule_arg)
    set(schedule_file ${ARG_SCHEDULE_DIR}/${family}/${NAME}.json)
    if(ARG_SCHEDULE_DIR AND EXISTS ${schedule_file})
      set(schedule_arg schedule=${schedule_file})
    else()
      set(schedule_file)
    endif()
    add_custom_command(
      OUTPUT ${out}/${fn}.a ${out}/${fn}.h
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      COMMAND ${gen} -g convpipe -f ${fn} -o ${out} -e static_library,c_header
              target=${targets} spec=${spec} ${schedule_arg}
      DEPENDS ${gen} ${spec} ${weight_files} ${schedule_file}
      COMMENT "convpipe: compiling ${NAME} for ${family}"
      VERBATIM)
    list(APPEND libs ${out}/${fn}.a)
    list(APPEND headers ${out}/${fn}.h)
    list(APPEND defs "CONVPIPE_TARGETS_${family}=\"${targets}\"")
    list(APPEND families ${family})
    if(family STREQUAL "x86")
      set(x86_schedule ${schedule_file})
    endif()
  endforeach()

  list(JOIN families "," families_arg)
  set(glue_schedule)
  if(x86_schedule)
    set(glue_schedule --schedule ${x86_schedule})
  endif()
  add_custom_command(
    OUTPUT ${out}/${NAME}_registration.cpp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
    COMMAND ${gen} glue --spec ${spec} --name ${NAME} --families ${families_arg}
            --output ${out}/${NAME}_registration.cpp ${glue_schedule}
    DEPENDS ${gen} ${spec} ${weight_files} ${x86_schedule}
    COMMENT "convpipe: registration for ${NAME}"
    VERBATIM)

  add_library(${NAME} OBJECT ${out}/${NAME}_registration.cpp ${headers})
  target_include_directories(${NAME} PRIVATE ${out})
  target_compile_definitions(${NAME} PRIVATE ${defs})
  target_link_libraries(${NAME} PUBLIC ${libs} ${CONVPIPE_RUNTIME_TARGET})
endfunction()
