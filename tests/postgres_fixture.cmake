# The throwaway PostgreSQL server for tests (CTest fixture `postgres`) and the test helper
# library every module's store-backed tests link.
#
# RENKEI_TEST_PG_DIR  data dir and unix socket dir (short: socket paths are limited to ~107 bytes)
# RENKEI_TEST_PG_PORT port number (used only to name the socket; nothing listens on TCP)
# RENKEI_TEST_PG_URL  libpq URL of the maintenance database `renkei` on that server; tests get
#                     it in the environment variable of the same name (renkei_test(... POSTGRES))
string(SHA256 renkei_pg_hash "${CMAKE_BINARY_DIR}")
string(SUBSTRING "${renkei_pg_hash}" 0 8 renkei_pg_hash)
set(RENKEI_TEST_PG_DIR "/tmp/renkei-pg-${renkei_pg_hash}")
# A port derived from the hash as well, so two build trees never share a socket name.
string(SUBSTRING "${renkei_pg_hash}" 0 4 renkei_pg_port_hex)
math(EXPR RENKEI_TEST_PG_PORT "0x${renkei_pg_port_hex} % 20000 + 40000")
set(RENKEI_TEST_PG_URL
  "postgresql:///renkei?host=${RENKEI_TEST_PG_DIR}&port=${RENKEI_TEST_PG_PORT}&user=postgres")

add_test(NAME postgres_start
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/pg-fixture.sh start ${RENKEI_TEST_PG_DIR}
    ${RENKEI_TEST_PG_PORT})
set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres LABELS "platform;store"
  TIMEOUT 120)
add_test(NAME postgres_stop
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/pg-fixture.sh stop ${RENKEI_TEST_PG_DIR}
    ${RENKEI_TEST_PG_PORT})
set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres LABELS "platform;store"
  TIMEOUT 60)

add_library(renkei_test_support STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/test_db.cpp)
target_include_directories(renkei_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(renkei_test_support PUBLIC renkei_store GTest::gtest
  PRIVATE PostgreSQL::PostgreSQL)
