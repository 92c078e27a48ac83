# renkei_test(NAME target LABELS l1 [l2...] SOURCES ... LIBS ...)
# One GoogleTest binary per module; every test carries the module's issue-area labels so
# that `ctest -L label` selects it.
function(renkei_test name)
  cmake_parse_arguments(T "" "" "LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${T_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()
