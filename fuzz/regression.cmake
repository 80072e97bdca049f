# The fuzz targets as plain ctest tests of the main (GCC) build: each target's
# LLVMFuzzerTestOneInput run over its seed corpus, fuzz/corpus/<target>/, by
# fuzz/regression_main.cc. Included from tests/CMakeLists.txt:
#   include(${PROJECT_SOURCE_DIR}/fuzz/regression.cmake)
# Needs the targets reftrack_core and reftrack_http (for http/request_body.h).
set(REFTRACK_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(reftrack_fuzz_support STATIC ${REFTRACK_FUZZ_DIR}/fuzz_support.cc)
target_include_directories(reftrack_fuzz_support PUBLIC ${REFTRACK_FUZZ_DIR})
target_link_libraries(reftrack_fuzz_support PUBLIC reftrack_core reftrack_http)
foreach(target fuzz_csv_reader fuzz_bulk_update fuzz_qualify_list fuzz_json_bodies)
  add_executable(${target}_regression ${REFTRACK_FUZZ_DIR}/${target}.cc
                                      ${REFTRACK_FUZZ_DIR}/regression_main.cc)
  target_link_libraries(${target}_regression PRIVATE reftrack_fuzz_support)
  add_test(NAME fuzz.${target}
           COMMAND ${target}_regression ${REFTRACK_FUZZ_DIR}/corpus/${target})
endforeach()
