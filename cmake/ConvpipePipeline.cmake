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

# x86: AVX-512, AVX2+FMA and SSE4.1 variants, each compiled on its own; the
# runtime picks the best one the CPU has at each call (and can be told to
# stay below a level, which Halide's own multi-target wrapper cannot: it
# caches its first choice). SSE4.1 is the fallback that runs everywhere.
# AVX-512 twice: for Skylake-SP and Cascade Lake (1 MB of L2), and for
# Sapphire Rapids and later, whose schedules the heuristic fits to their 48
# KB of L1d and 2 MB of L2. Targets are named explicitly, never "host".
set(CONVPIPE_TARGET_avx512_sapphirerapids
    "x86-64-linux-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids-no_runtime-user_context")
set(CONVPIPE_TARGET_avx512 "x86-64-linux-avx512_skylake-no_runtime-user_context")
set(CONVPIPE_TARGET_avx2 "x86-64-linux-avx2-fma-f16c-no_runtime-user_context")
set(CONVPIPE_TARGET_sse41 "x86-64-linux-sse41-no_runtime-user_context")
# The three x86 ISA levels as one list, for libraries that use Halide's own
# multi-target dispatch (the classic convolutions, which stop at Skylake's
# AVX-512 set).
set(CONVPIPE_X86_TARGETS ${CONVPIPE_TARGET_avx512} ${CONVPIPE_TARGET_avx2} ${CONVPIPE_TARGET_sse41})
set(CONVPIPE_TARGET_cuda "x86-64-linux-sse41-cuda-cuda_capability_70-no_runtime-user_context")

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

  set(variants)
  foreach(family IN LISTS ARG_TARGETS)
    if(family STREQUAL "x86")
      list(APPEND variants avx512_sapphirerapids avx512 avx2 sse41)
    elseif(family STREQUAL "cuda")
      # The CUDA schedule templates are not written yet; compiling the x86
      # schedules for a CUDA target would quietly run on the host instead.
      message(FATAL_ERROR "convpipe_add_pipeline(${NAME}): TARGETS cuda is not supported yet "
                          "(no CUDA schedule templates); build with TARGETS x86")
    else()
      message(FATAL_ERROR "convpipe_add_pipeline(${NAME}): unknown target family '${family}' (x86, cuda)")
    endif()
  endforeach()

  set(libs)
  set(headers)
  set(defs)
  set(glue_schedules)
  foreach(variant IN LISTS variants)
    set(family x86)
    if(variant STREQUAL "cuda")
      set(family cuda)
    endif()
    set(fn ${NAME}_${variant})
    set(schedule_arg)
    set(schedule_file ${ARG_SCHEDULE_DIR}/${family}/${NAME}.json)
    if(ARG_SCHEDULE_DIR AND EXISTS ${schedule_file})
      set(schedule_arg schedule=${schedule_file})
      list(APPEND glue_schedules ${schedule_file})
    else()
      set(schedule_file)
    endif()
    add_custom_command(
      OUTPUT ${out}/${fn}.a ${out}/${fn}.h
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      COMMAND ${gen} -g convpipe -f ${fn} -o ${out} -e static_library,c_header
              target=${CONVPIPE_TARGET_${variant}} spec=${spec} ${schedule_arg}
      DEPENDS ${gen} ${spec} ${weight_files} ${schedule_file}
      COMMENT "convpipe: compiling ${NAME} for ${variant}"
      VERBATIM)
    list(APPEND libs ${out}/${fn}.a)
    list(APPEND headers ${out}/${fn}.h)
    list(APPEND defs "CONVPIPE_TARGET_${variant}=\"${CONVPIPE_TARGET_${variant}}\"")
  endforeach()

  list(JOIN variants "," variants_arg)
  set(variant_targets)
  foreach(variant IN LISTS variants)
    list(APPEND variant_targets ${CONVPIPE_TARGET_${variant}})
  endforeach()
  list(JOIN variant_targets "," targets_arg)
  list(REMOVE_DUPLICATES glue_schedules)
  set(glue_schedule)
  if(glue_schedules)
    list(GET glue_schedules 0 first_schedule)
    set(glue_schedule --schedule ${first_schedule})
  endif()
  add_custom_command(
    OUTPUT ${out}/${NAME}_registration.cpp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
    COMMAND ${gen} glue --spec ${spec} --name ${NAME} --variants ${variants_arg} --targets ${targets_arg}
            --output ${out}/${NAME}_registration.cpp ${glue_schedule}
    DEPENDS ${gen} ${spec} ${weight_files} ${glue_schedules}
    COMMENT "convpipe: registration for ${NAME}"
    VERBATIM)

  add_library(${NAME} OBJECT ${out}/${NAME}_registration.cpp ${headers})
  target_include_directories(${NAME} PRIVATE ${out})
  target_compile_definitions(${NAME} PRIVATE ${defs})
  target_link_libraries(${NAME} PUBLIC ${libs} ${CONVPIPE_RUNTIME_TARGET})
endfunction()
