# Installing mdfs as a library (README.md, "Using mdfs as a library"):
#
#   cmake --install build --prefix P
#
# puts under P
#   include/mdfs/*.h                 the public headers (C++ and the C API)
#   lib/libmdfs.a                    every layer the public headers reach, in one archive
#   lib/pkgconfig/mdfs.pc            Libs: everything a static link needs
#   lib/cmake/mdfs/                  find_package(mdfs): the imported target mdfs::mdfs
#   bin/mdfs                         the command (mkfs, fsck, ...)
#
# One combined archive rather than the layer archives: a program links one
# -lmdfs whatever it uses, the order of the layers on the link line stops
# mattering, and the layer split (an inside matter, which changes) is not
# frozen into mdfs.pc and the CMake package. Static only: the C++ API has
# no ABI promise yet, so there is no soname to version. The archive is made
# from the layers' own object files ($<TARGET_OBJECTS>): nothing is
# compiled twice.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(mdfs_library_layers mdfs_util mdfs_device mdfs_format mdfs_journal mdfs_engine mdfs_fsck
                        mdfs_lease mdfs_direct mdfs_session mdfs_capi)
if(TARGET mdfs_rdma)
  list(APPEND mdfs_library_layers mdfs_rdma)  # include/mdfs/rdma_registration.h
endif()
set(mdfs_library_objects)
foreach(layer IN LISTS mdfs_library_layers)
  list(APPEND mdfs_library_objects $<TARGET_OBJECTS:${layer}>)
endforeach()

# The libraries a static link of libmdfs.a needs besides the C++ runtime,
# as pkg-config names them (their .pc files give the flags).
find_package(PkgConfig REQUIRED)
set(mdfs_pkg_modules libpmem liburing)
if(TARGET mdfs_rdma)
  list(APPEND mdfs_pkg_modules libibverbs)
endif()
pkg_check_modules(MDFS_LINK_DEPS REQUIRED IMPORTED_TARGET ${mdfs_pkg_modules})

add_library(mdfs_library STATIC ${mdfs_library_objects})
set_target_properties(mdfs_library PROPERTIES OUTPUT_NAME mdfs EXPORT_NAME mdfs
                                              LINKER_LANGUAGE CXX)
target_include_directories(mdfs_library INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(mdfs_library INTERFACE Threads::Threads PkgConfig::MDFS_LINK_DEPS)
target_compile_features(mdfs_library INTERFACE cxx_std_20)

file(GLOB mdfs_public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/mdfs/*.h)
if(NOT TARGET mdfs_rdma)
  list(REMOVE_ITEM mdfs_public_headers ${PROJECT_SOURCE_DIR}/include/mdfs/rdma_registration.h)
endif()
install(FILES ${mdfs_public_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mdfs)
install(TARGETS mdfs_library EXPORT mdfsTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS mdfs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The CMake package: mdfsConfig.cmake finds the dependencies, then the
# exported target (mdfsTargets.cmake, relative to the prefix).
set(mdfs_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mdfs)
install(EXPORT mdfsTargets NAMESPACE mdfs:: DESTINATION ${mdfs_cmake_dir})
string(REPLACE ";" " " MDFS_PKG_MODULES "${mdfs_pkg_modules}")
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mdfsConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mdfsConfig.cmake
                              INSTALL_DESTINATION ${mdfs_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mdfsConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mdfsConfig.cmake ${PROJECT_BINARY_DIR}/mdfsConfigVersion.cmake
        DESTINATION ${mdfs_cmake_dir})

# mdfs.pc, relocatable: the prefix is found from the file's own place
# (${pcfiledir}), since `cmake --install --prefix P` picks P after
# configuration.
file(RELATIVE_PATH mdfs_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" mdfs_pc_to_prefix "${mdfs_pc_to_prefix}")
list(JOIN MDFS_LINK_DEPS_LDFLAGS " " MDFS_PC_DEPS_LIBS)
list(JOIN MDFS_LINK_DEPS_CFLAGS " " MDFS_PC_DEPS_CFLAGS)
configure_file(${CMAKE_CURRENT_LIST_DIR}/mdfs.pc.in ${PROJECT_BINARY_DIR}/mdfs.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mdfs.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ctest install_test: install this build to a temporary prefix and build a
# C++ (find_package) and a C (pkg-config) program against it alone.
if(MDFS_BUILD_TESTS)
  add_test(NAME install_test COMMAND ${PROJECT_SOURCE_DIR}/tests/install/install_test.sh
                                     ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_test PROPERTIES TIMEOUT 300 LABELS install
                       ENVIRONMENT "CC=${CMAKE_C_COMPILER};CXX=${CMAKE_CXX_COMPILER}")
endif()
