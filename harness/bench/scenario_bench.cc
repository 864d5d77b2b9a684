// The scenario parser over the bug catalogue's scenario files (one plain
// scenario each; files elsewhere may hold a matrix, which expands to many):
// what `lastcall check` and the start of `lastcall run` pay per file (YAML,
// validation, templates).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/file.h"
#include "scenario/scenario.h"

namespace lastcall {
namespace {

// (path, text) of every scenarios/bugs/*.yaml, read once.
std::vector<std::pair<std::string, std::string>> BugScenarios() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(LASTCALL_SOURCE_DIR "/scenarios/bugs")) {
    if (entry.path().extension() != ".yaml") continue;
    files.emplace_back(entry.path().string(), ReadFileOrEmpty(entry.path().string()));
  }
  return files;
}

// Parses every file; false and *error at the first that does not parse.
bool ParseAll(const std::vector<std::pair<std::string, std::string>>& files, std::string* error) {
  for (const auto& [path, text] : files) {
    Scenario scenario;
    if (!ParseScenarioText(text, path, &scenario, error)) return false;
    benchmark::DoNotOptimize(scenario.name.data());
  }
  return true;
}

void BM_ParseScenario(benchmark::State& state) {
  const auto files = BugScenarios();
  std::string error = "no scenario files under " LASTCALL_SOURCE_DIR "/scenarios/bugs";
  if (files.empty()) state.SkipWithError(error.c_str());
  for (auto _ : state) {
    if (!ParseAll(files, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(files.size()));
}
BENCHMARK(BM_ParseScenario)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lastcall
