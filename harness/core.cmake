# Included by CMakeLists.txt once the core sources exist.
add_library(lastcall_core STATIC
  audit.cc
  causes.cc
  checks.cc
  container.cc
  control.cc
  database_watch.cc
  explore.cc
  history.cc
  html_report.cc
  http_client.cc
  job_queue.cc
  junit.cc
  load.cc
  load_balancer.cc
  markdown.cc
  matrix_table.cc
  nemesis.cc
  proc_scan.cc
  progress.cc
  report.cc
  rolling_restart.cc
  run.cc
  saved_run.cc
  scheduler.cc
  shard.cc
  server_log.cc
  shrink.cc
  socket_watch.cc
  target.cc
  variation.cc
  variation_file.cc
  websocket_load.cc)
target_include_directories(lastcall_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(lastcall_core PRIVATE ${LASTCALL_WARNINGS})
target_compile_definitions(lastcall_core PUBLIC LASTCALL_VERSION="${PROJECT_VERSION}")
target_link_libraries(lastcall_core PUBLIC
  lastcall_process lastcall_scenario nlohmann_json::nlohmann_json Threads::Threads)

add_executable(lastcall lastcall.cc)
target_compile_options(lastcall PRIVATE ${LASTCALL_WARNINGS})
target_link_libraries(lastcall PRIVATE lastcall_core CLI11::CLI11)
# `lastcall init` points editors at the JSON Schema in this checkout.
target_compile_definitions(lastcall PRIVATE LASTCALL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

lastcall_add_test(core_test
  SOURCES audit_test.cc causes_test.cc checks_test.cc control_test.cc history_test.cc html_report_test.cc
          job_queue_test.cc junit_test.cc
          load_test.cc markdown_test.cc nemesis_test.cc proc_scan_test.cc progress_test.cc report_test.cc
          saved_run_test.cc server_log_test.cc socket_watch_test.cc
          matrix_table_test.cc websocket_load_test.cc
  LIBS lastcall_core)

lastcall_add_test(load_balancer_test
  SOURCES load_balancer_test.cc rolling_restart_test.cc LIBS lastcall_core)

lastcall_add_test(scheduler_test SOURCES scheduler_test.cc shard_test.cc LIBS lastcall_core)

lastcall_add_test(cli_test
  SOURCES cli_test.cc report_cli_test.cc
  LIBS lastcall_process lastcall_scenario nlohmann_json::nlohmann_json)
target_compile_definitions(cli_test PRIVATE
  LASTCALL_BINARY="$<TARGET_FILE:lastcall>"
  PAYMENT_SERVER_BINARY="$<TARGET_FILE:payment-server>"
  SIGNAL_RECORDER_BINARY="$<TARGET_FILE:signal-recorder>"
  LASTCALL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(cli_test lastcall payment-server signal-recorder)

# lastcall explore: the variations, the shrinker and the repro file (pure
# logic), and end to end against the reference target's bugs.
lastcall_add_test(explore_test
  SOURCES shrink_test.cc variation_file_test.cc variation_test.cc
  LIBS lastcall_core)
lastcall_add_test(explore_cli_test
  SOURCES explore_cli_test.cc
  LIBS lastcall_process lastcall_scenario nlohmann_json::nlohmann_json)
target_compile_definitions(explore_cli_test PRIVATE
  LASTCALL_BINARY="$<TARGET_FILE:lastcall>"
  PAYMENT_SERVER_BINARY="$<TARGET_FILE:payment-server>"
  LASTCALL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(explore_cli_test lastcall payment-server)

# End to end: every bundled scenario must meet its expectation against the
# reference target (bug scenarios expect their checks to fail). The scenario
# files name the target as ../build/targets/..., the build this script makes.
file(GLOB_RECURSE bundled_scenarios CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/scenarios/*.yaml)
foreach(file ${bundled_scenarios})
  file(RELATIVE_PATH name ${PROJECT_SOURCE_DIR}/scenarios ${file})
  # A reports folder each: one lastcall at a time may write a folder, and
  # the tests run side by side.
  string(REGEX REPLACE "\\.yaml$" "" reports ${name})
  add_test(NAME "scenario:${name}"
    COMMAND lastcall run --reports ${PROJECT_BINARY_DIR}/test-reports/${reports} ${file}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties("scenario:${name}" PROPERTIES TIMEOUT 180)
endforeach()

# Google Benchmark programs; built by default so they cannot rot.
add_subdirectory(bench)
