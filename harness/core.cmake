# Included by CMakeLists.txt once the core sources exist.
add_library(lastcall_core STATIC
  run/audit.cc
  check/causes.cc
  check/checks.cc
  process/container.cc
  run/control.cc
  run/database_watch.cc
  explore/explore.cc
  history/history.cc
  report/html_report.cc
  client/http_client.cc
  client/job_queue.cc
  report/junit.cc
  client/load.cc
  process/load_balancer.cc
  report/markdown.cc
  report/matrix_table.cc
  run/nemesis.cc
  process/proc_scan.cc
  run/progress.cc
  report/report.cc
  run/rolling_restart.cc
  run/run.cc
  report/saved_run.cc
  run/scheduler.cc
  run/shard.cc
  process/server_log.cc
  explore/shrink.cc
  process/socket_watch.cc
  run/target.cc
  explore/variation.cc
  explore/variation_file.cc
  client/websocket_load.cc)
target_include_directories(lastcall_core PUBLIC ${LASTCALL_SOURCE_FOLDERS})
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
  SOURCES run/audit_test.cc check/causes_test.cc check/checks_test.cc run/control_test.cc history/history_test.cc report/html_report_test.cc
          client/job_queue_test.cc report/junit_test.cc
          client/load_test.cc report/markdown_test.cc run/nemesis_test.cc process/proc_scan_test.cc run/progress_test.cc report/report_test.cc
          report/saved_run_test.cc process/server_log_test.cc process/socket_watch_test.cc
          report/matrix_table_test.cc client/websocket_load_test.cc
  LIBS lastcall_core)

lastcall_add_test(load_balancer_test
  SOURCES process/load_balancer_test.cc run/rolling_restart_test.cc LIBS lastcall_core)

lastcall_add_test(scheduler_test SOURCES run/scheduler_test.cc run/shard_test.cc LIBS lastcall_core)

lastcall_add_test(cli_test
  SOURCES e2e/cli_test.cc e2e/report_cli_test.cc
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
  SOURCES explore/shrink_test.cc explore/variation_file_test.cc explore/variation_test.cc
  LIBS lastcall_core)
lastcall_add_test(explore_cli_test
  SOURCES e2e/explore_cli_test.cc
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
