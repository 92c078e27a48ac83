# renkei_test(NAME [POSTGRES] LABELS l1 [l2...] SOURCES ... LIBS ...)
# One GoogleTest binary per module; every test carries the module's issue-area labels so
# that `ctest -L label` selects it. POSTGRES: the tests need the throwaway PostgreSQL server
# (CTest fixture `postgres`, tests/postgres_fixture.cmake) and get its URL in
# RENKEI_TEST_PG_URL; selecting such a test with -L starts the server automatically.
function(renkei_test name)
  cmake_parse_arguments(T "POSTGRES" "" "LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  # Properties are applied to the discovered tests by a script CTest includes after the
  # discovery output: list-valued properties (several LABELS) do not survive being passed
  # through gtest_discover_tests(PROPERTIES ...), which splits them into separate arguments.
  gtest_discover_tests(${name}
    TEST_LIST ${name}_TESTS
    DISCOVERY_TIMEOUT 60)
  set(props "LABELS [==[${T_LABELS}]==]")
  if(T_POSTGRES)
    string(APPEND props
      " FIXTURES_REQUIRED postgres ENVIRONMENT [==[RENKEI_TEST_PG_URL=${RENKEI_TEST_PG_URL}]==]")
  endif()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
  file(WRITE ${script}
    "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES ${props})\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()
