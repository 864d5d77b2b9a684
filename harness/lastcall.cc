// lastcall: proves that a service shuts down gracefully. The command line.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include <CLI/CLI.hpp>

#include "base/file.h"
#include "base/interrupt.h"
#include "check/catalogue.h"
#include "check/check_names.h"
#include "explore/explore.h"
#include "process/container.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"
#include "report/matrix_table.h"
#include "report/saved_report.h"
#include "run/control.h"
#include "run/progress.h"
#include "run/run.h"
#include "run/scheduler.h"
#include "run/shard.h"
#include "scenario/matrix.h"
#include "scenario/scenario.h"
#include "scenario/sender.h"
#include "scenario/starter.h"

namespace fs = std::filesystem;
using namespace lastcall;

namespace {

// Exit codes (4, an invalid scenario, is report.h's).
constexpr int kAllMet = kExitAllMet, kNotMet = kExitNotMet, kBadInput = kExitBadInput,
              kInfrastructure = kExitInfrastructure;

// The scenario files named by `paths`: files as given, folders searched
// (recursively) for *.yaml / *.yml, in name order.
bool CollectFiles(const std::vector<std::string>& paths, std::vector<std::string>* files) {
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
bool LoadAll(const std::vector<std::string>& paths, const std::vector<std::string>& overrides,
             std::vector<Scenario>* scenarios) {
  std::vector<std::string> files;
  if (!CollectFiles(paths, &files)) return false;
  bool ok = true;
  for (const std::string& file : files) {
    std::vector<Scenario> loaded;
    std::string error;
    if (LoadCheckedScenario(file, overrides, &loaded, &error)) {
      for (Scenario& scenario : loaded) scenarios->push_back(std::move(scenario));
    } else {
      std::cerr << error << "\n";
      ok = false;
    }
  }
  return ok;
}

int Check(const std::vector<std::string>& paths, const std::vector<std::string>& overrides) {
  std::vector<Scenario> scenarios;
  if (!LoadAll(paths, overrides, &scenarios)) return kBadInput;
  for (const Scenario& s : scenarios)
    std::cout << "ok  " << s.file << (s.matrix.empty() ? "" : "  " + CombinationLabel(s.matrix))
              << "\n";
  return kAllMet;
}

// `lastcall report`: junit.xml, summary.md and index.html of an earlier run
// rendered again from its result.json and history.jsonl.
int Report(const std::string& result_json) {
  SavedReport run;
  std::string error;
  if (!LoadSavedReport(result_json, &run, &error)) {
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
      !WriteFileAtomically(dir + "/index.html",
                           RunIndexHtml(dir, results, MatrixTablesHtml(results)), &error))
    std::cerr << "lastcall: " << error << "\n";
  if (const char* step_summary = std::getenv("GITHUB_STEP_SUMMARY")) {
    std::ofstream out(step_summary, std::ios::app);
    out << summary;
    if (!out) std::cerr << "lastcall: cannot append to " << step_summary << "\n";
  }
}

// `lastcall checks`: every check, what it catches, what it needs.
int ListChecks() {
  for (const CheckInfo& check : CheckCatalogue())
    std::printf("%-23s %s\n%-23s needs: %s\n", check.name, check.catches, "", check.needs);
  return kAllMet;
}

// "1.6s", "30s": a preset's grace as a scenario would write it.
std::string GraceText(Duration grace) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
  return ms % 1000 ? std::to_string(ms) + "ms" : std::to_string(ms / 1000) + "s";
}

// `lastcall senders`: the sender presets with their defaults and sources.
int ListSenders() {
  std::printf("%-15s %-10s %-8s %-6s %-16s %s\n", "preset", "signal", "to", "grace", "then",
              "source");
  for (const SenderPreset& p : SenderPresets()) {
    std::string signal = SignalName(p.signal);
    for (int also : p.also) signal += "+" + SignalName(also);
    std::string then = p.escalation_signal
                           ? SignalName(p.escalation_signal) + " to " + RecipientName(p.escalate_to)
                           : "nothing";
    std::printf("%-15s %-10s %-8s %-6s %-16s %s\n", p.name, signal.c_str(), RecipientName(p.to),
                GraceText(p.grace).c_str(), then.c_str(), p.source);
  }
  return kAllMet;
}

// The value of an `init` flag: as given, else asked on a terminal (with
// `fallback` offered), else `fallback`.
std::string AskIfMissing(const std::string& given, const std::string& question,
                         const std::string& fallback) {
  if (!given.empty() || !isatty(STDIN_FILENO)) return given.empty() ? fallback : given;
  std::cout << question << (fallback.empty() ? "" : " [" + fallback + "]") << ": " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer.empty() ? fallback : answer;
}

// `lastcall init`: writes a starter scenario to `output` ("-": stdout),
// never over an existing file. Returns 2 for a missing command, a bad
// endpoint, an unreadable schema or an existing output.
int Init(const std::string& command, const std::string& health_path, const std::string& endpoint,
         const std::string& schema, const std::string& output) {
  StarterOptions o;
  o.command = SplitCommand(AskIfMissing(command, "command that starts your service", ""));
  if (o.command.empty()) {
    std::cerr << "lastcall init: --command is required (the command that starts your service, "
                 "e.g. --command 'python3 app.py --port ${port}')\n";
    return kBadInput;
  }
  o.health_path = AskIfMissing(health_path, "health check path (2xx when ready)", "/healthz");
  if (!ParseEndpoint(AskIfMissing(endpoint, "payment endpoint", "POST /payments"), &o.method,
                     &o.path)) {
    std::cerr << "lastcall init: --endpoint must be METHOD /PATH or /PATH, got '" << endpoint
              << "'\n";
    return kBadInput;
  }
  const fs::path folder = output == "-" ? fs::current_path() : fs::absolute(output).parent_path();
  const std::string schema_file = AskIfMissing(schema, "schema SQL file (empty: none)", "");
  if (!schema_file.empty()) {
    std::string error;
    if (!ReadFile(schema_file, &o.schema_sql, &error)) {
      std::cerr << "lastcall init: the schema " << error << "\n";
      return kBadInput;
    }
    o.schema = fs::absolute(schema_file).lexically_relative(folder).string();
  }
  o.name =
      output == "-" ? fs::path(o.command[0]).stem().string() : fs::path(output).stem().string();
  const fs::path json_schema = fs::path(LASTCALL_SOURCE_DIR) / "schema/scenario.schema.json";
  if (fs::exists(json_schema)) o.json_schema = json_schema.lexically_relative(folder).string();
  const std::string text = StarterScenario(o);
  if (output == "-") {
    std::cout << text;
    return kAllMet;
  }
  // O_EXCL: an existing file, even one created a moment ago, is never replaced.
  int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "lastcall init: " << output << ": " << std::strerror(errno)
              << (errno == EEXIST ? " (lastcall init never overwrites a file)" : "") << "\n";
    return kBadInput;
  }
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (close(fd) != 0 || !written) {
    std::cerr << "lastcall init: cannot write " << output << "\n";
    return kInfrastructure;
  }
  std::cout << "wrote " << output << ": fill in its TODOs, then\n  lastcall check " << output
            << "\n  lastcall run " << output << "\n";
  return kAllMet;
}

// ", 2 invalid (fail without a fault)" for the tally; "" for none, so that
// a suite without control runs keeps the tally it always had.
std::string InvalidTally(int invalid) {
  return invalid ? ", " + std::to_string(invalid) + " invalid (fail without a fault)" : "";
}

// `lastcall report --merge`: the run-level reports over the scenario runs of
// several reports folders (the shards of a suite), written into `out_dir`.
// Returns the exit code one run of them all would have had; 2 when a folder
// is not a run's, or a shard is missing.
int Merge(const std::vector<std::string>& dirs, const std::string& out_dir) {
  MergedRuns merged;
  std::string error;
  if (!MergeShards(dirs, &merged, &error)) {
    std::cerr << "lastcall: " << error << "\n";
    return kBadInput;
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  std::map<Verdict, int> count;
  for (const ScenarioResult& result : merged.results) {
    std::cout << ConsoleLines(result);
    ++count[result.verdict];
  }
  for (const MatrixTable& table : MatrixTables(merged.results))
    std::cout << "\n" << MatrixTableText(table);
  WriteRunReports(fs::absolute(out_dir).string(), merged.results, merged.expectations);
  std::printf(
      "\n%zu scenario runs from %zu folders: %d met, %d not met, %d bad input, "
      "%d infrastructure failures, %d interrupted%s; merged reports in %s\n",
      merged.results.size(), dirs.size(), count[Verdict::kMet], count[Verdict::kNotMet],
      count[Verdict::kBadInput], count[Verdict::kInfrastructure], count[Verdict::kInterrupted],
      InvalidTally(count[Verdict::kInvalid]).c_str(), out_dir.c_str());
  return SuiteExitCode(count);
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
      plan.push_back(
          {&scenario, repeat > 1 ? scenario.name + "/" + std::to_string(round) : scenario.name});
  return plan;
}

// --shard: the runs of `plan` that are this shard's, in plan order, and
// shard.json for the merge. Writes nothing when the reports folder cannot be
// made (the runs will say so).
std::vector<PlannedRun> TakeShard(const std::vector<PlannedRun>& plan, const Shard& shard,
                                  const std::string& reports_dir) {
  std::vector<PlannedRun> taken;
  std::vector<std::string> names;
  std::vector<ShardRun> mine;
  for (size_t i = 0; i < plan.size(); ++i) {
    names.push_back(plan[i].report_name);
    if (!InShard(i, shard)) continue;
    taken.push_back(plan[i]);
    mine.push_back({i, plan[i].report_name});
  }
  std::string error;
  std::error_code ec;
  fs::create_directories(reports_dir, ec);
  if (!WriteFileAtomically(reports_dir + "/shard.json", ShardManifestJson(shard, names, mine),
                           &error))
    std::cerr << "lastcall: " << error << "\n";
  return taken;
}

// `control`: --control, a control run for every scenario whatever its file
// says.
int Run(const std::vector<std::string>& paths, const RunOptions& options, const std::string& only,
        int repeat, int jobs, const Shard& shard, bool control, Interrupt* interrupt) {
  std::vector<Scenario> scenarios;
  if (!LoadAll(paths, options.overrides, &scenarios)) return kBadInput;
  if (control)
    for (Scenario& scenario : scenarios) scenario.control = true;
  if (!only.empty()) {
    scenarios.erase(
        std::remove_if(scenarios.begin(), scenarios.end(),
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
  int runs = 0;
  std::map<Verdict, int> count;
  std::map<std::string, int> met_by_scenario;  // for --repeat's tally
  auto start = std::chrono::steady_clock::now();
  const std::vector<PlannedRun> plan =
      TakeShard(Plan(scenarios, repeat), shard, options.reports_dir);
  std::vector<std::optional<ScenarioResult>> done(plan.size());
  // The server dies with the thread that started it: with --jobs, this one.
  if (jobs > 1) session->AdminUrl(&error);
  std::mutex mutex;  // the tallies
  // On a terminal, a live line per run in progress below the finished ones.
  std::cout << std::flush;
  ProgressBoard board(stdout,
                      ProgressWanted() && options.console.detail != ConsoleStyle::Detail::kQuiet);
  // A control run shows on the board under its own folder's name.
  auto run_scenario = [&](const Scenario& scenario, const std::string& report_name) {
    RunStatus status;
    board.Add(report_name, &status);
    ScenarioResult result = RunAndReport(scenario, session.get(), report_name, &status);
    board.Remove(&status);
    return result;
  };
  auto run_one = [&](size_t i) {
    ScenarioResult result =
        RunWithControl(*plan[i].scenario, options.reports_dir, plan[i].report_name, run_scenario);
    board.Print(ConsoleLines(result, options.console));  // whole lines, a run at a time
    std::lock_guard<std::mutex> lock(mutex);
    ++runs;
    ++count[result.verdict];
    if (result.verdict == Verdict::kMet) ++met_by_scenario[result.name];
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
    // Out of the runs planned here: a shard has only some of each scenario's.
    std::map<std::string, int> planned;
    for (const PlannedRun& run : plan) ++planned[run.scenario->name];
    std::printf("\nexpectation met, by scenario, over %d repetitions%s:\n", repeat,
                shard.count > 1 ? " (the runs of this shard)" : "");
    for (const Scenario& scenario : scenarios)
      if (planned[scenario.name] > 0)
        std::printf("  %3d/%d  %s\n", met_by_scenario[scenario.name], planned[scenario.name],
                    scenario.name.c_str());
  }
  for (const MatrixTable& table : MatrixTables(results))
    std::cout << "\n" << MatrixTableText(table);
  WriteRunReports(options.reports_dir, results, expectations);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "\n%d scenario runs: %d met, %d not met, %d bad input, %d infrastructure failures%s  "
      "(%.1fs)\n",
      runs, count[Verdict::kMet], count[Verdict::kNotMet], count[Verdict::kBadInput],
      count[Verdict::kInfrastructure], InvalidTally(count[Verdict::kInvalid]).c_str(), seconds);
  if (interrupt->count() > 0) {
    std::printf("interrupted: partial reports are in %s\n", options.reports_dir.c_str());
    return 128 + interrupt->first_signal();
  }
  return SuiteExitCode(count);
}

const char* const kSetHelp =
    "override a scenario value before parsing: KEY=VALUE, KEY a dotted path such as "
    "faults.0.grace or target.env.DRAIN_TIMEOUT (repeatable)";

// `lastcall explore`: its options, and running it (harness/explore.h).
struct ExploreCommand {
  CLI::App* command;
  ExploreOptions options;
  RunOptions run_options;
  uint64_t seed = 0;
  CLI::Option* seed_option;
  std::string shrink_time = "3m";

  explicit ExploreCommand(CLI::App& app)
      : command(app.add_subcommand(
            "explore",
            "draw variations of a scenario's faults and load from a seed; shrink a "
            "failure to a minimal scenario file that reproduces it")) {
    command
        ->add_option("path", options.path,
                     "the base scenario (its explore: section "
                     "bounds the variations)")
        ->required();
    command->add_option("--runs", options.runs, "variations to run (default 20)")
        ->check(CLI::Range(1, 1000000));
    seed_option =
        command->add_option("--seed", seed, "draw from this seed (default: the scenario's)");
    command->add_flag("--keep-going", options.keep_going, "go on after the first failure");
    command->add_option("--reports", run_options.reports_dir,
                        "report folder (default: reports/); runs and repro files in its explore/");
    command->add_option("--db", run_options.db_url,
                        "use this PostgreSQL server instead of an embedded one");
    command
        ->add_option("--set", run_options.overrides,
                     std::string(kSetHelp) + "; repro files hold the overridden values")
        ->allow_extra_args(false);
    command
        ->add_option(
            "--confirm", options.confirmations,
            "runs of a failure and of each shrink candidate; every one must fail (default 3)")
        ->check(CLI::Range(1, 100));
    command
        ->add_option("--shrink-tries", options.max_shrink_tries,
                     "shrink candidates to try, at most (default 40; 0: no shrinking)")
        ->check(CLI::Range(0, 10000));
    command->add_option("--shrink-time", shrink_time,
                        "stop shrinking after this long (default 3m)");
    command->footer(
        "Example:\n"
        "  lastcall explore my-service.yaml --runs 50 --seed 7 --reports /tmp/explore \\\n"
        "      --set target.env.DRAIN_TIMEOUT=2s\n"
        "    then: lastcall run /tmp/explore/explore/repro-lost.yaml --repeat 20\n"
        "Exit: 0 nothing found, 1 a failure found (repro written), 2 bad input, 3 infrastructure.");
  }

  int Run(Interrupt* interrupt) {
    std::optional<Duration> limit = ParseDuration(shrink_time);
    if (!limit) {
      std::cerr << "lastcall explore: --shrink-time must be a duration such as 90s or 5m\n";
      return kBadInput;
    }
    options.shrink_time = *limit;
    if (*seed_option) options.seed = seed;
    return Explore(options, run_options, interrupt);
  }
};

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
  app.footer(
      "Your own service, from nothing to a first verdict:\n"
      "  lastcall init --command 'python3 app.py --port ${port}' --health-path /healthz \\\n"
      "                --endpoint 'POST /payments' --schema schema.sql -o shutdown.yaml\n"
      "  lastcall check shutdown.yaml     # fill in its TODOs until this says ok\n"
      "  lastcall run shutdown.yaml       # exit 0: every expectation met\n"
      "  lastcall checks                  # what each check catches\n"
      "`lastcall SUBCOMMAND --help` shows each one with an example.");

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
  run->add_option("--only", only,
                  "run only the scenario with this name (or every combination of this matrix)");
  run->add_option("--set", options.overrides, kSetHelp)->allow_extra_args(false);
  run->add_option("--repeat", repeat, "run every scenario N times (reports in NAME/1, NAME/2...)")
      ->check(CLI::Range(1, 100000));
  run->add_option("--jobs", jobs,
                  "run up to N scenario runs at a time, sharing only the database server")
      ->check(CLI::Range(1, 64));
  std::string shard_text = "1/1";
  run->add_option("--shard", shard_text,
                  "run only shard K of N (K/N): the runs at positions K-1, K-1+N... of the "
                  "plan; merge the shards' reports with lastcall report --merge");
  bool control = false;
  run->add_flag("--control", control,
                "first run each scenario without its faults: a check that fails there makes "
                "it invalid (exit 4), as `control: true` in its file does");
  bool quiet = false, verbose = false;
  CLI::Option* quiet_flag =
      run->add_flag("--quiet,-q", quiet, "print only failures and the final tally");
  run->add_flag("--verbose,-v", verbose, "also print every check's status")->excludes(quiet_flag);
  run->footer(
      "Examples:\n"
      "  lastcall run scenarios/sigterm-under-load.yaml    # one scenario; reports in reports/\n"
      "  lastcall run scenarios --jobs 2 --reports /tmp/r  # a folder, two runs at a time\n"
      "  lastcall run scenarios --shard 2/3 --reports r2   # CI job 2 of 3; then report --merge\n"
      "  lastcall run f.yaml --set faults.0.grace=2s       # override a value\n"
      "  lastcall run scenarios --control                  # each first without its faults\n"
      "Exit: 0 every expectation met, 1 some not, 2 bad input, 3 infrastructure, 4 a scenario\n"
      "fails without a fault (its control run); of several, the first of 3, 2, 4, 1.");

  std::vector<std::string> check_paths{"scenarios"};
  CLI::App* check = app.add_subcommand("check", "validate scenario files, start nothing");
  check->add_option("paths", check_paths, "scenario files or folders (default: scenarios/)");
  std::vector<std::string> check_overrides;
  check->add_option("--set", check_overrides, kSetHelp)->allow_extra_args(false);
  check->footer(
      "Example:\n  lastcall check scenarios    # every file; errors as file:line:column, exit 2");

  std::string result_json;
  CLI::App* report =
      app.add_subcommand("report",
                         "render junit.xml, summary.md and index.html of an earlier run again, "
                         "or merge the reports of several (shards)");
  CLI::Option* result_option =
      report->add_option("result", result_json, "the run's result.json (history.jsonl beside it)");
  std::vector<std::string> merge_dirs;
  std::string merged_dir = "reports";
  report
      ->add_option("--merge", merge_dirs,
                   "the reports folders of lastcall runs (e.g. one per --shard) to merge")
      ->excludes(result_option);
  report->add_option("--reports", merged_dir,
                     "with --merge: where the merged junit.xml, summary.md, index.html go "
                     "(default: reports/)");
  report->footer(
      "Examples:\n"
      "  lastcall report reports/sigterm-under-load/result.json\n"
      "  lastcall report --merge shard-1 shard-2 shard-3 --reports merged\n"
      "    (the reports folders of `lastcall run --shard K/3`; exit as one run of them all)");

  std::string init_command, init_health, init_endpoint, init_schema, init_output = "scenario.yaml";
  CLI::App* init = app.add_subcommand(
      "init", "write a commented starter scenario for your own service (never overwrites)");
  init->add_option("--command", init_command,
                   "the command that starts your service, split at spaces; ${port} is its port");
  init->add_option("--health-path", init_health, "a path that answers 2xx once it is ready");
  init->add_option("--endpoint", init_endpoint, "the payment endpoint: METHOD /PATH");
  init->add_option("--schema", init_schema,
                   "your schema's SQL file; the audit query is guessed from it");
  init->add_option("-o,--output", init_output,
                   "the file to write, - for stdout (default: scenario.yaml)");
  init->footer(
      "Asks for what is missing on a terminal, nothing otherwise. Example:\n"
      "  lastcall init --command 'python3 app.py --port ${port}' --health-path /healthz \\\n"
      "                --endpoint 'POST /payments' --schema schema.sql -o shutdown.yaml");

  CLI::App* checks =
      app.add_subcommand("checks", "list every check: what it catches, what it needs");
  checks->footer(
      "Example:\n  lastcall checks    # then audit.checks: [lost, duplicated] runs only those");
  CLI::App* senders = app.add_subcommand(
      "senders", "list the sender presets (how Kubernetes, Docker, systemd... stop a process)");
  senders->footer(
      "Example:\n  lastcall senders   # then in a fault: sender: kubernetes, grace: 5s");

  ExploreCommand explore(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
  if (*seed_option) options.seed = seed;
  options.jobs = jobs;
  options.console.detail = quiet     ? ConsoleStyle::Detail::kQuiet
                           : verbose ? ConsoleStyle::Detail::kVerbose
                                     : ConsoleStyle::Detail::kNormal;
  options.console.colour = ColourWanted();
  if (explore.command->parsed()) return explore.Run(&interrupt);
  if (check->parsed()) return Check(check_paths, check_overrides);
  if (checks->parsed()) return ListChecks();
  if (senders->parsed()) return ListSenders();
  if (init->parsed())
    return Init(init_command, init_health, init_endpoint, init_schema, init_output);
  if (report->parsed()) {
    if (!merge_dirs.empty()) return Merge(merge_dirs, merged_dir);
    if (result_json.empty()) {
      std::cerr << "lastcall report: give a result.json, or --merge DIR...\n";
      return kBadInput;
    }
    return Report(result_json);
  }
  Shard shard;
  std::string shard_error;
  if (!ParseShard(shard_text, &shard, &shard_error)) {
    std::cerr << "lastcall run: " << shard_error << "\n";
    return kBadInput;
  }
  try {
    return Run(run_paths, options, only, repeat, jobs, shard, control, &interrupt);
  } catch (const std::exception& e) {
    // Outside any one run (each run reports its own): a thread or memory
    // lastcall could not get for the suite's own work.
    std::cerr << "lastcall: " << e.what() << "\n";
    return kInfrastructure;
  }
}
