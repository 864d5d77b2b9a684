// lastcall: proves that a service shuts down gracefully. The command line.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include <CLI/CLI.hpp>

#include "container.h"
#include "html_report.h"
#include "interrupt.h"
#include "junit.h"
#include "markdown.h"
#include "matrix.h"
#include "matrix_table.h"
#include "progress.h"
#include "run.h"
#include "saved_run.h"
#include "scenario.h"
#include "scheduler.h"

namespace fs = std::filesystem;
using namespace lastcall;

namespace {

// Exit codes (SPEC §5).
constexpr int kAllMet = 0, kNotMet = 1, kBadInput = 2, kInfrastructure = 3;

// The scenario files named by `paths`: files as given, folders searched
// (recursively) for *.yaml / *.yml, in name order.
bool CollectFiles(const std::vector<std::string>& paths,
                  std::vector<std::string>* files) {
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
        std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
          found.push_back(entry.path().string());
      }
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files->push_back(path);
    } else {
      std::cerr << path << ": no such file or folder\n";
      return false;
    }
  }
  if (files->empty()) {
    std::cerr << "no scenario files found\n";
    return false;
  }
  return true;
}

// Loads every file, each with `overrides` (--set) applied and its matrix
// expanded; reports every error, not only the first.
bool LoadAll(const std::vector<std::string>& paths,
             const std::vector<std::string>& overrides,
             std::vector<Scenario>* scenarios) {
  std::vector<std::string> files;
  if (!CollectFiles(paths, &files)) return false;
  bool ok = true;
  for (const std::string& file : files) {
    std::vector<Scenario> loaded;
    std::string error;
    if (LoadScenario(file, overrides, &loaded, &error)) {
      for (Scenario& scenario : loaded) scenarios->push_back(std::move(scenario));
    } else {
      std::cerr << error << "\n";
      ok = false;
    }
  }
  return ok;
}

int Check(const std::vector<std::string>& paths,
          const std::vector<std::string>& overrides) {
  std::vector<Scenario> scenarios;
  if (!LoadAll(paths, overrides, &scenarios)) return kBadInput;
  for (const Scenario& s : scenarios)
    std::cout << "ok  " << s.file
              << (s.matrix.empty() ? "" : "  " + CombinationLabel(s.matrix)) << "\n";
  return kAllMet;
}

// `lastcall report`: junit.xml, summary.md and index.html of an earlier run
// rendered again from its result.json and history.jsonl.
int Report(const std::string& result_json) {
  SavedRun run;
  std::string error;
  if (!LoadSavedRun(result_json, &run, &error)) {
    std::cerr << "lastcall: " << error << "\n";
    return kBadInput;
  }
  if (!WriteRenderedReports(run, &error)) {
    std::cerr << "lastcall: " << error << "\n";
    return kInfrastructure;
  }
  std::cout << ConsoleLines(run.result) << "reports rendered again in " << run.result.report_dir
            << "\n";
  return kAllMet;
}

// The run-level reports: junit.xml, summary.md and index.html over every
// scenario run, the summary also appended to $GITHUB_STEP_SUMMARY when set.
void WriteRunReports(const std::string& dir, const std::vector<ScenarioResult>& results,
                     const std::vector<Expectation>& expectations) {
  if (results.empty()) return;
  std::string error;
  std::string summary = SummaryMarkdown(results);
  if (!WriteFileAtomically(dir + "/junit.xml", JunitXml(results, expectations), &error) ||
      !WriteFileAtomically(dir + "/summary.md", summary, &error) ||
      !WriteFileAtomically(dir + "/index.html", RunIndexHtml(dir, results, MatrixTablesHtml(results)),
                           &error))
    std::cerr << "lastcall: " << error << "\n";
  if (const char* step_summary = std::getenv("GITHUB_STEP_SUMMARY")) {
    std::ofstream out(step_summary, std::ios::app);
    out << summary;
    if (!out) std::cerr << "lastcall: cannot append to " << step_summary << "\n";
  }
}

// One scenario run of the invocation.
struct PlannedRun {
  const Scenario* scenario;
  std::string report_name;  // with --repeat, each repetition keeps its own reports
};

// Every scenario run, in the order a serial run takes them.
std::vector<PlannedRun> Plan(const std::vector<Scenario>& scenarios, int repeat) {
  std::vector<PlannedRun> plan;
  for (int round = 1; round <= repeat; ++round)
    for (const Scenario& scenario : scenarios)
      plan.push_back({&scenario, repeat > 1 ? scenario.name + "/" + std::to_string(round)
                                            : scenario.name});
  return plan;
}

int Run(const std::vector<std::string>& paths, const RunOptions& options,
        const std::string& only, int repeat, int jobs, Interrupt* interrupt) {
  std::vector<Scenario> scenarios;
  if (!LoadAll(paths, options.overrides, &scenarios)) return kBadInput;
  if (!only.empty()) {
    scenarios.erase(std::remove_if(scenarios.begin(), scenarios.end(),
                                   [&](const Scenario& s) { return !SelectedByOnly(s.name, only); }),
                    scenarios.end());
    if (scenarios.empty()) {
      std::cerr << "no scenario is named '" << only << "'\n";
      return kBadInput;
    }
  }
  std::string error;
  std::unique_ptr<Session> session = Session::Open(options, interrupt, &error);
  if (!session) {
    std::cerr << "lastcall: " << error << "\n";
    return kInfrastructure;
  }
  int met = 0, not_met = 0, bad = 0, broken = 0, runs = 0;
  std::map<std::string, int> met_by_scenario;  // for --repeat's tally
  auto start = std::chrono::steady_clock::now();
  const std::vector<PlannedRun> plan = Plan(scenarios, repeat);
  std::vector<std::optional<ScenarioResult>> done(plan.size());
  // The server dies with the thread that started it: with --jobs, this one.
  if (jobs > 1) session->AdminUrl(&error);
  std::mutex mutex;  // the tallies
  // On a terminal, a live line per run in progress below the finished ones.
  std::cout << std::flush;
  ProgressBoard board(stdout, ProgressWanted() &&
                                  options.console.detail != ConsoleStyle::Detail::kQuiet);
  auto run_one = [&](size_t i) {
    RunStatus status;
    board.Add(plan[i].report_name, &status);
    ScenarioResult result =
        RunScenario(*plan[i].scenario, session.get(), plan[i].report_name, &status);
    board.Remove(&status);
    board.Print(ConsoleLines(result, options.console));  // whole lines, a run at a time
    std::lock_guard<std::mutex> lock(mutex);
    ++runs;
    switch (result.verdict) {
      case Verdict::kMet: ++met; ++met_by_scenario[result.name]; break;
      case Verdict::kNotMet: ++not_met; break;
      case Verdict::kBadInput: ++bad; break;
      case Verdict::kInfrastructure: ++broken; break;
      case Verdict::kInterrupted: break;
    }
    done[i] = std::move(result);
  };
  RunInParallel(plan.size(), jobs, run_one, [&] { return interrupt->Check() > 0; });
  // The run-level reports list the runs in plan order, whatever the order
  // they finished in.
  std::vector<ScenarioResult> results;
  std::vector<Expectation> expectations;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!done[i]) continue;
    results.push_back(std::move(*done[i]));
    expectations.push_back(plan[i].scenario->expect);
  }
  if (repeat > 1) {
    std::printf("\nexpectation met, by scenario, over %d repetitions:\n", repeat);
    for (const Scenario& scenario : scenarios)
      std::printf("  %3d/%d  %s\n", met_by_scenario[scenario.name], repeat,
                  scenario.name.c_str());
  }
  for (const MatrixTable& table : MatrixTables(results))
    std::cout << "\n" << MatrixTableText(table);
  WriteRunReports(options.reports_dir, results, expectations);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%d scenario runs: %d met, %d not met, %d bad input, %d infrastructure failures  (%.1fs)\n",
              runs, met, not_met, bad, broken, seconds);
  if (interrupt->count() > 0) {
    std::printf("interrupted: partial reports are in %s\n", options.reports_dir.c_str());
    return 128 + interrupt->first_signal();
  }
  if (broken) return kInfrastructure;
  if (bad) return kBadInput;
  return not_met ? kNotMet : kAllMet;
}

}  // namespace

int main(int argc, char** argv) {
  // Container mode: this process is the parent of a target's PID namespace.
  if (argc > 1 && std::string(argv[1]) == kContainerFlag)
    RunContainerParent(std::vector<std::string>(argv + 2, argv + argc));
  // First, before any thread exists: SIGINT/SIGTERM become an orderly stop.
  Interrupt interrupt;

  CLI::App app{"lastcall: proves that a service shuts down gracefully"};
  app.require_subcommand(1);
  app.set_version_flag("--version", LASTCALL_VERSION);

  std::vector<std::string> run_paths{"scenarios"};
  RunOptions options;
  std::string only;
  uint64_t seed = 0;
  int repeat = 1;
  int jobs = 1;
  CLI::App* run = app.add_subcommand("run", "run scenarios and audit the target");
  run->add_option("paths", run_paths, "scenario files or folders (default: scenarios/)");
  run->add_option("--reports", options.reports_dir, "report folder (default: reports/)");
  run->add_option("--db", options.db_url, "use this PostgreSQL server instead of an embedded one");
  CLI::Option* seed_option = run->add_option("--seed", seed, "override every scenario's seed");
  run->add_option("--only", only, "run only the scenario with this name (or every combination of this matrix)");
  const char* set_help = "override a scenario value before parsing: KEY=VALUE, KEY a dotted path such as "
                         "faults.0.grace or target.env.DRAIN_TIMEOUT (repeatable)";
  run->add_option("--set", options.overrides, set_help)->allow_extra_args(false);
  run->add_option("--repeat", repeat, "run every scenario N times (reports in NAME/1, NAME/2...)")
      ->check(CLI::Range(1, 100000));
  run->add_option("--jobs", jobs, "run up to N scenario runs at a time, sharing only the database server")
      ->check(CLI::Range(1, 64));
  bool quiet = false, verbose = false;
  CLI::Option* quiet_flag =
      run->add_flag("--quiet,-q", quiet, "print only failures and the final tally");
  run->add_flag("--verbose,-v", verbose, "also print every check's status")->excludes(quiet_flag);

  std::vector<std::string> check_paths{"scenarios"};
  CLI::App* check = app.add_subcommand("check", "validate scenario files, start nothing");
  check->add_option("paths", check_paths, "scenario files or folders (default: scenarios/)");
  std::vector<std::string> check_overrides;
  check->add_option("--set", check_overrides, set_help)->allow_extra_args(false);

  std::string result_json;
  CLI::App* report = app.add_subcommand(
      "report", "render junit.xml, summary.md and index.html of an earlier run again");
  report->add_option("result", result_json, "the run's result.json (history.jsonl beside it)")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
  if (*seed_option) options.seed = seed;
  options.console.detail = quiet     ? ConsoleStyle::Detail::kQuiet
                           : verbose ? ConsoleStyle::Detail::kVerbose
                                     : ConsoleStyle::Detail::kNormal;
  options.console.colour = ColourWanted();
  if (check->parsed()) return Check(check_paths, check_overrides);
  if (report->parsed()) return Report(result_json);
  return Run(run_paths, options, only, repeat, jobs, &interrupt);
}
