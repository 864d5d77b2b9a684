#include "explore/explore.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/file.h"
#include "check/check_names.h"
#include "explore/shrink.h"
#include "explore/variation.h"
#include "explore/variation_file.h"
#include "report/report.h"
#include "run/progress.h"

namespace lastcall {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kNothingFound = 0, kFound = 1, kBadInput = 2, kInfrastructure = 3;

// The checks of a run that failed where the base expects a pass. `faults`
// is not one: a fault that never fired says the variation missed its
// moment, not that the target is wrong.
std::vector<std::string> Findings(const ScenarioResult& result, const Expectation& expect) {
  std::vector<std::string> found;
  for (const CheckResult& check : result.checks)
    if (check.status == CheckStatus::kFail && check.name != "faults" && expect.MustPass(check.name))
      found.push_back(check.name);
  return found;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Removes from *list what `found` does not contain.
void KeepOnly(const std::vector<std::string>& found, std::vector<std::string>* list) {
  list->erase(std::remove_if(list->begin(), list->end(),
                             [&](const std::string& c) { return !Contains(found, c); }),
              list->end());
}

std::string Joined(const std::vector<std::string>& list) {
  std::string text;
  for (const std::string& item : list) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string Seconds(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

class Explorer {
 public:
  Explorer(const ExploreOptions& options, const Scenario& base, const std::string& base_yaml,
           Session* session)
      : options_(options),
        base_(base),
        base_yaml_(base_yaml),
        session_(session),
        seed_(options.seed.value_or(base.seed)),
        dir_(session->options().reports_dir + "/explore"),
        board_(stdout, ProgressWanted()) {}

  // The runs, each variation drawn from (seed, run); returns the exit code.
  int Run();

 private:
  // Writes `variation` as explore/<label>.yaml and runs it, reports in
  // explore/<label>/. Returns false, with exit_code_ set, when the run
  // could not judge the target (bad input, infrastructure, interrupted).
  bool RunVariation(const Variation& variation, const std::string& label,
                    const std::string& progress, ScenarioResult* result);
  // Runs `variation` once more, reports in explore/shrink-<n>/.
  bool RunAgain(const Variation& variation, const std::string& why, ScenarioResult* result);
  // Runs `variation` `confirmations` times; true when every run fails
  // `check`. Then *everywhere (when not empty, the checks that failed in
  // every run so far) keeps only the checks that failed in every run: a
  // repro expects what failed in every run that led to it, not a check
  // that happened to fail in the last three runs (measured: a repro that
  // also expected such a `drained` met its expectation 6 times in 20).
  bool FailsEveryTime(const Variation& variation, const std::string& check,
                      std::vector<std::string>* everywhere);
  // Runs the failing variation until it has run `confirmations` times in
  // all (the finding run the first); returns how many runs failed each
  // check of `found`.
  std::map<std::string, int> Confirm(const Variation& failing,
                                     const std::vector<std::string>& found);
  // Tries SteadierVariations(failing) in order, counting each in *tried (at
  // most --shrink-tries in all); true, *steadier the first that failed
  // `check` in every run, when one did.
  bool Steady(const Variation& failing, const std::string& check, Variation* steadier,
              std::vector<std::string>* everywhere, int* tried);
  // Confirms, shrinks and writes a failure found by run `run`.
  void ShrinkAndWrite(const Variation& failing, int64_t run, const std::vector<std::string>& found);
  bool Stopped() {
    if (exit_code_ == kNothingFound && session_->interrupt()->Check() > 0)
      exit_code_ = 128 + session_->interrupt()->first_signal();
    return exit_code_ != kNothingFound;
  }

  const ExploreOptions& options_;
  const Scenario& base_;
  const std::string& base_yaml_;
  Session* session_;
  const uint64_t seed_;
  const std::string dir_;
  ProgressBoard board_;
  int exit_code_ = kNothingFound;  // why the exploration stopped early
  int64_t runs_done_ = 0, inconclusive_ = 0, failures_ = 0, shrink_runs_ = 0;
  std::vector<std::string> repros_;  // files written
  std::vector<std::string> reproduced_checks_;
};

bool Explorer::RunVariation(const Variation& variation, const std::string& label,
                            const std::string& progress, ScenarioResult* result) {
  VariationFile file{base_.name + "/" + label, {}, ""};
  std::string yaml, error;
  const std::string path = dir_ + "/" + label + ".yaml";
  Scenario scenario;
  std::error_code ignored;
  fs::create_directories(dir_, ignored);
  if (!VariationYaml(base_yaml_, base_, variation, file, &yaml, &error) ||
      !ParseScenarioText(yaml, path, &scenario, &error)) {
    board_.Print("lastcall: " + error + "\n");
    exit_code_ = kBadInput;
    return false;
  }
  if (!WriteFileAtomically(path, yaml, &error)) {
    board_.Print("lastcall: " + error + "\n");
    exit_code_ = kInfrastructure;
    return false;
  }
  RunStatus status;
  board_.Add(progress, &status);
  *result = RunAndReport(scenario, session_, "explore/" + label, &status);
  board_.Remove(&status);
  if (result->verdict == Verdict::kBadInput || result->verdict == Verdict::kInfrastructure) {
    board_.Print(ConsoleLines(*result));
    exit_code_ = result->verdict == Verdict::kBadInput ? kBadInput : kInfrastructure;
  }
  return !Stopped();
}

bool Explorer::RunAgain(const Variation& variation, const std::string& why,
                        ScenarioResult* result) {
  ++shrink_runs_;
  return RunVariation(variation, "shrink-" + std::to_string(shrink_runs_),
                      "shrink run " + std::to_string(shrink_runs_) + " (" + why + ")", result);
}

bool Explorer::FailsEveryTime(const Variation& variation, const std::string& check,
                              std::vector<std::string>* everywhere) {
  const int times = options_.confirmations;
  std::vector<std::string> common;
  for (int i = 1; i <= times; ++i) {
    ScenarioResult result;
    if (!RunAgain(variation, std::to_string(i) + "/" + std::to_string(times), &result))
      return false;
    std::vector<std::string> found = Findings(result, base_.expect);
    if (!Contains(found, check)) {
      board_.Print("  shrink-" + std::to_string(shrink_runs_) + "  passes " + check + " (run " +
                   std::to_string(i) + " of " + std::to_string(times) +
                   "): " + DescribeVariation(variation) + "\n");
      return false;
    }
    if (i == 1) common = everywhere->empty() ? found : *everywhere;
    KeepOnly(found, &common);
  }
  board_.Print("  shrink-" + std::to_string(shrink_runs_) + "  fails " + check + " (" +
               std::to_string(times) + " of " + std::to_string(times) +
               "): " + DescribeVariation(variation) + "\n");
  *everywhere = common;
  return true;
}

std::map<std::string, int> Explorer::Confirm(const Variation& failing,
                                             const std::vector<std::string>& found) {
  const int confirmations = options_.confirmations;
  std::map<std::string, int> failed;
  for (const std::string& c : found) failed[c] = 1;
  for (int i = 2; i <= confirmations; ++i) {
    ScenarioResult result;
    if (!RunAgain(failing, "confirming " + std::to_string(i) + "/" + std::to_string(confirmations),
                  &result))
      break;
    for (const std::string& c : Findings(result, base_.expect))
      if (failed.count(c)) ++failed[c];
  }
  return failed;
}

bool Explorer::Steady(const Variation& failing, const std::string& check, Variation* steadier,
                      std::vector<std::string>* everywhere, int* tried) {
  for (const Variation& candidate : SteadierVariations(failing)) {
    if (*tried >= options_.max_shrink_tries || Stopped()) return false;
    ++*tried;
    everywhere->clear();  // what the failing variation did not fail every time
    if (FailsEveryTime(candidate, check, everywhere)) {
      *steadier = candidate;
      return true;
    }
  }
  return false;
}

void Explorer::ShrinkAndWrite(const Variation& failing, int64_t run,
                              const std::vector<std::string>& found) {
  const Clock::time_point start = Clock::now();
  const int confirmations = options_.confirmations;
  std::map<std::string, int> failed = Confirm(failing, found);
  if (exit_code_ == kBadInput || exit_code_ == kInfrastructure) return;
  // Shrink on the check that failed most often (the first, of equals).
  std::string check = found.front();
  std::vector<std::string> everywhere;
  std::string tally;
  for (const std::string& c : found) {
    if (failed[c] > failed[check]) check = c;
    if (failed[c] == confirmations) everywhere.push_back(c);
    tally += (tally.empty() ? "" : ", ") + c + " " + std::to_string(failed[c]) + "/" +
             std::to_string(confirmations);
  }
  board_.Print("  confirming: " + tally + "\n");
  bool steady = failed[check] == confirmations;
  // Not steady: a state trigger in place of a time may be (the first step).
  ShrinkResult shrunk{failing, 0, 0};
  if (!steady && !Stopped() &&
      Steady(failing, check, &shrunk.smallest, &everywhere, &shrunk.tried)) {
    steady = true;
    shrunk.steps = 1;
  }
  if (steady && !Stopped()) {
    const Clock::time_point deadline = start + options_.shrink_time;
    ShrinkResult more = Shrink(
        shrunk.smallest,
        [&](const Variation& candidate) { return FailsEveryTime(candidate, check, &everywhere); },
        options_.max_shrink_tries - shrunk.tried,
        [&] { return Stopped() || Clock::now() >= deadline; });
    shrunk = {more.smallest, shrunk.steps + more.steps, shrunk.tried + more.tried};
  }
  if (exit_code_ == kBadInput || exit_code_ == kInfrastructure) return;
  // Interrupted: what was confirmed so far is still worth a file.
  const std::string path = dir_ + "/repro-" + check + ".yaml";
  std::ostringstream comment;
  comment << "Found by lastcall explore " << base_.file << " --seed " << seed_;
  for (const std::string& assignment : session_->options().overrides)
    comment << " --set " << assignment;
  comment << ": run " << run << " of " << options_.runs << ",\n  " << DescribeVariation(failing)
          << "\nwhich failed " << tally << " of its confirming runs.\n";
  if (steady)
    comment << "Shrunk in " << shrunk.steps << " steps (" << shrunk.tried << " candidates, "
            << Seconds(Clock::now() - start) << ") to\n  " << DescribeVariation(shrunk.smallest)
            << "\nwhich failed " << Joined(everywhere) << " in each of " << confirmations
            << " runs.\n";
  else
    comment << "No steadier form failed every time, so it was not shrunk: expect it to "
            << "reproduce only sometimes.\n";
  comment << "Replay: lastcall run " << fs::absolute(path).string() << " --repeat 20\n";
  VariationFile file{base_.name + "-repro-" + check,
                     steady ? everywhere : std::vector<std::string>{check}, comment.str()};
  std::string yaml, error;
  if (!VariationYaml(base_yaml_, base_, shrunk.smallest, file, &yaml, &error) ||
      !WriteFileAtomically(path, yaml, &error)) {
    board_.Print("lastcall: " + error + "\n");
    if (exit_code_ == kNothingFound) exit_code_ = kInfrastructure;
    return;
  }
  repros_.push_back(path);
  reproduced_checks_.push_back(check);
  board_.Print("repro: " + path + "  (" + std::to_string(shrunk.steps) + " shrink steps, " +
               std::to_string(shrunk.tried) + " candidates, " + Seconds(Clock::now() - start) +
               ")\n");
}

int Explorer::Run() {
  const Clock::time_point start = Clock::now();
  board_.Print("exploring " + base_.file + " with seed " + std::to_string(seed_) + ", " +
               std::to_string(options_.runs) + " runs\n");
  for (int64_t run = 1; run <= options_.runs && !Stopped(); ++run) {
    const Variation variation = DrawVariation(base_, seed_, run);
    const std::string counter = "run " + std::to_string(run) + "/" + std::to_string(options_.runs);
    ScenarioResult result;
    if (!RunVariation(variation, "run-" + std::to_string(run),
                      counter + ", " + std::to_string(failures_) + " failed", &result))
      break;
    ++runs_done_;
    const std::vector<std::string> found = Findings(result, base_.expect);
    const bool missed = found.empty() && result.verdict == Verdict::kNotMet;
    inconclusive_ += missed;
    board_.Print(counter + "  " +
                 (found.empty() ? (missed ? "no finding (a fault never fired)" : "pass")
                                : "FAIL " + Joined(found)) +
                 "  " + DescribeVariation(variation) + "\n");
    if (found.empty()) continue;
    ++failures_;
    // With --keep-going, a failure already written is only counted.
    if (std::none_of(found.begin(), found.end(),
                     [&](const std::string& c) { return Contains(reproduced_checks_, c); }))
      ShrinkAndWrite(variation, run, found);
    if (!options_.keep_going) break;
  }
  board_.Print("\nexplore: " + std::to_string(runs_done_) + " runs, " + std::to_string(failures_) +
               " failed, " + std::to_string(inconclusive_) +
               " with a fault that never fired  (seed " + std::to_string(seed_) + ", " +
               Seconds(Clock::now() - start) + ")\n");
  for (const std::string& repro : repros_) board_.Print("  repro file: " + repro + "\n");
  if (exit_code_ != kNothingFound) return exit_code_;
  return failures_ > 0 ? kFound : kNothingFound;
}

}  // namespace

int Explore(const ExploreOptions& options, const RunOptions& run_options, Interrupt* interrupt) {
  std::vector<Scenario> scenarios;
  std::string error;
  if (!LoadCheckedScenario(options.path, run_options.overrides, &scenarios, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return kBadInput;
  }
  const Scenario& base = scenarios.front();
  if (scenarios.size() > 1 || !base.matrix.empty()) {
    std::fprintf(stderr, "%s: explore takes a scenario without a matrix\n", options.path.c_str());
    return kBadInput;
  }
  if (!base.expect.pass) {
    std::fprintf(stderr,
                 "%s: explore looks for checks that fail where the scenario expects a pass; "
                 "this one expects checks to fail (expect: {fail: [...]})\n",
                 options.path.c_str());
    return kBadInput;
  }
  const std::string text = ReadFileOrEmpty(options.path);
  // Every variation is written from the overridden text (LoadScenario has
  // already said whether the overrides apply).
  std::string base_yaml;
  if (!OverriddenScenarioText(text, options.path, run_options.overrides, &base_yaml, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return kBadInput;
  }
  std::unique_ptr<Session> session = Session::Open(run_options, interrupt, &error);
  if (!session) {
    std::fprintf(stderr, "lastcall: %s\n", error.c_str());
    return kInfrastructure;
  }
  std::fflush(stdout);
  return Explorer(options, base, base_yaml, session.get()).Run();
}

}  // namespace lastcall
