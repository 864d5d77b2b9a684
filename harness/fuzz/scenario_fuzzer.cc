// libFuzzer entry point for the scenario parser: any bytes, as the text of a
// scenario file, must give either a scenario or an error message, never a
// crash, a hang, an uncaught exception or a sanitizer report; and a scenario
// it accepts keeps its reports inside the reports folder.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  lastcall::Scenario scenario;
  std::string error;
  // A folder that does not exist, so that relative paths in the input (a
  // schema file, a command) never reach real files.
  bool ok = lastcall::ParseScenarioText(text, "/nonexistent/fuzz.yaml", &scenario, &error);
  // The contract of ParseScenarioText: a failure always says why, without a
  // control character that a terminal would obey.
  if (!ok && error.empty()) __builtin_trap();
  for (char c : error)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
  // A scenario's name is the path of its reports below the reports folder:
  // never the folder itself or outside it.
  if (ok) {
    const std::filesystem::path folder =
        (std::filesystem::path("reports") / scenario.name).lexically_normal();
    if (*folder.begin() != "reports" || folder == "reports" || folder == "reports/")
      __builtin_trap();
  }
  return 0;
}
