// libFuzzer entry point for the scenario parser: any bytes, as the text of a
// scenario file, must give either a scenario or an error message, never a
// crash, a hang, an uncaught exception or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  lastcall::Scenario scenario;
  std::string error;
  // A folder that does not exist, so that relative paths in the input (a
  // schema file, a command) never reach real files.
  bool ok = lastcall::ParseScenarioText(text, "/nonexistent/fuzz.yaml",
                                        &scenario, &error);
  // The contract of ParseScenarioText: a failure always says why.
  if (!ok && error.empty())
    __builtin_trap();
  return 0;
}
