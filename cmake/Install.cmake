# cmake --install: the CLI, the Generator (with libHalide, which it needs to
# run), the runtime libraries and headers, and a `convpipe` CMake package that
# gives other projects convpipe::runtime and convpipe_add_pipeline().
include(CMakePackageConfigHelpers)

set(CONVPIPE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/convpipe)

set_target_properties(convpipe_core PROPERTIES EXPORT_NAME core)
set_target_properties(convpipe_graph PROPERTIES EXPORT_NAME graph)
set_target_properties(convpipe_runtime PROPERTIES EXPORT_NAME runtime)
set(exported convpipe_core convpipe_graph convpipe_runtime)
if(TARGET convpipe_classic)
  set_target_properties(convpipe_classic PROPERTIES EXPORT_NAME classic)
  list(APPEND exported convpipe_classic)
  get_property(classic_libs GLOBAL PROPERTY CONVPIPE_CLASSIC_GENERATED_LIBRARIES)
  install(FILES ${classic_libs} DESTINATION ${CMAKE_INSTALL_LIBDIR}/convpipe)
  target_link_libraries(convpipe_classic PUBLIC $<INSTALL_INTERFACE:convpipe::classic_kernels>)
  set(CONVPIPE_CLASSIC_KERNELS)
  foreach(lib IN LISTS classic_libs)
    get_filename_component(lib_name ${lib} NAME)
    list(APPEND CONVPIPE_CLASSIC_KERNELS ${lib_name})
  endforeach()
endif()
target_link_libraries(convpipe_runtime PUBLIC $<INSTALL_INTERFACE:convpipe::halide_runtime>)

install(TARGETS ${exported} EXPORT convpipeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS convpipe convpipe_generator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/runtime/halide_runtime/convpipe_halide_runtime.a
        DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME libconvpipe_halide_runtime.a)

# The Generator and the CLI's JIT need libHalide at run time.
get_target_property(halide_lib Halide::Halide IMPORTED_LOCATION_RELEASE)
install(FILES ${halide_lib} DESTINATION ${CMAKE_INSTALL_LIBDIR})

install(DIRECTORY runtime/include/convpipe generators/graph/include/convpipe
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
file(GLOB halide_runtime_headers ${CONVPIPE_HALIDE_INCLUDE}/HalideRuntime*.h)
install(FILES ${halide_runtime_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/convpipe/halide)
install(DIRECTORY pipelines/images/ DESTINATION ${CMAKE_INSTALL_DATADIR}/convpipe/images)

install(EXPORT convpipeTargets NAMESPACE convpipe:: DESTINATION ${CONVPIPE_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/convpipeConfig.cmake.in ${PROJECT_BINARY_DIR}/convpipeConfig.cmake
                              INSTALL_DESTINATION ${CONVPIPE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/convpipeConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/convpipeConfig.cmake ${PROJECT_BINARY_DIR}/convpipeConfigVersion.cmake
              cmake/ConvpipePipeline.cmake
        DESTINATION ${CONVPIPE_INSTALL_CMAKEDIR})
