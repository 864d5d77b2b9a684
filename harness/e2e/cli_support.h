// What the end-to-end tests of the lastcall command share: running it,
// scenario files around the reference target, reading its results.
#ifndef LASTCALL_E2E_CLI_SUPPORT_H_
#define LASTCALL_E2E_CLI_SUPPORT_H_

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "base/file.h"
#include "base/temp_dir.h"
#include "base/test_skip.h"
#include "base/wait_until.h"
#include "process/database.h"
#include "process/subprocess.h"
#include "scenario/scenario.h"
#include "scenario/sender.h"

namespace fs = std::filesystem;

namespace lastcall {

struct Output {
  int code = -1;
  std::string text;  // stdout and stderr
};

// A signal for lastcall, sent as soon as `when()` holds (after the ones
// before it).
struct Poke {
  int signal;
  std::function<bool()> when;
};

// `argv` run from the source folder with the tests' environment, and
// TMPDIR=`tmpdir` if given.
inline SpawnOptions FromSourceFolder(std::vector<std::string> argv,
                                     const std::string& tmpdir = "") {
  SpawnOptions options;
  options.argv = std::move(argv);
  for (char** e = environ; *e; ++e)
    if (tmpdir.empty() || std::string(*e).rfind("TMPDIR=", 0) != 0) options.env.push_back(*e);
  if (!tmpdir.empty()) options.env.push_back("TMPDIR=" + tmpdir);
  options.cwd = LASTCALL_SOURCE_DIR;
  return options;
}

// Runs lastcall with `args` and TMPDIR=`tmpdir` (if given), poking it as
// `pokes` say, through the command `wrapper` if given (it gets lastcall's
// argv as its last arguments). Waits at most 150 s.
inline Output Lastcall(std::vector<std::string> args, const std::vector<Poke>& pokes,
                       const std::string& tmpdir = "",
                       const std::vector<std::string>& wrapper = {}) {
  args.insert(args.begin(), LASTCALL_BINARY);
  args.insert(args.begin(), wrapper.begin(), wrapper.end());
  size_t poked = 0;
  CapturedOutput run = RunCaptured(FromSourceFolder(args, tmpdir), std::chrono::seconds(150),
                                   [&](Subprocess& lastcall) {
                                     if (poked < pokes.size() && pokes[poked].when())
                                       lastcall.Signal(pokes[poked++].signal, false);
                                   });
  INFO(run.output);
  INFO(run.error);
  REQUIRE(run.exit_status);
  Output out;
  out.code = run.exit_status->by_signal ? 128 + run.exit_status->value : run.exit_status->value;
  out.text = run.output;
  return out;
}

// Lastcall() with at most one signal.
inline Output Lastcall(std::vector<std::string> args, int signal = 0,
                       const std::function<bool()>& when = nullptr,
                       const std::string& tmpdir = "") {
  std::vector<Poke> pokes;
  if (signal) pokes.push_back({signal, when});
  return Lastcall(std::move(args), pokes, tmpdir);
}

// True when a live process carries LASTCALL_RUN_ID=`run_id`.
inline bool RunProcessesAlive(const std::string& run_id) {
  const std::string needle = "LASTCALL_RUN_ID=" + run_id;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    if (ReadFileOrEmpty(entry.path() / "environ").find(needle) != std::string::npos) return true;
  }
  return false;
}

inline const std::string kSchema =
    std::string(LASTCALL_SOURCE_DIR) + "/targets/payment-server/schema.sql";
inline const std::string kServer = PAYMENT_SERVER_BINARY;
// The target section that runs the reference target on the run's port.
inline const std::string kServerTarget = "  command: [" + kServer + ", --port, \"${port}\"]\n";

// The YAML of a scenario around `target` (YAML of the target section's body).
inline std::string ScenarioYaml(const std::string& target, const std::string& extra = "") {
  return "database:\n  schema: " + kSchema +
         "\n"
         "target:\n" +
         target +
         "load:\n  clients: 2\n  duration: 300ms\n"
         "  request: {body: "
         "'{\"from\":\"acct-${from}\",\"to\":\"acct-${to}\",\"amount\":${amount}}',"
         " headers: {Idempotency-Key: \"${key}\"}}\n"
         "audit:\n  applied: SELECT idempotency_key, count(*) FROM ledger GROUP BY 1\n" +
         extra;
}

// Writes `yaml` as `name`.yaml in `dir` and runs it, reports in dir/reports.
inline Output RunYaml(const TempDir& dir, const std::string& name, const std::string& yaml) {
  std::string file = dir.Write(name + ".yaml", yaml);
  return Lastcall({"run", "--reports", (dir.path / "reports").string(), file});
}

// `name`.yaml in `dir` (default long.yaml): the reference target under a
// 60 s load, so that a signal to lastcall surely lands during it.
inline std::string LongScenario(const TempDir& dir, const std::string& name = "long") {
  std::string text = ScenarioYaml(kServerTarget);
  text.replace(text.find("300ms"), 5, "60s");
  return dir.Write(name + ".yaml", text);
}

// True once the target of `name`.yaml logs that it is serving.
inline bool LongTargetServing(const std::string& reports, const std::string& name = "long") {
  return ReadFileOrEmpty(reports + "/" + name + "/target.log.partial").find("listening") !=
         std::string::npos;
}

// The JSON document in `path` (a result.json, a shard.json).
inline nlohmann::json ReadJson(const fs::path& path) {
  std::string text, error;
  if (!ReadFile(path, &text, &error)) FAIL(error);
  return nlohmann::json::parse(text);
}

// A PostgreSQL server of the test's own, in `dir`/server, for --db.
inline std::unique_ptr<EmbeddedPostgres> ExternalServer(const TempDir& dir) {
  std::string error;
  fs::create_directory(dir.path / "server");
  std::unique_ptr<EmbeddedPostgres> server =
      EmbeddedPostgres::Start((dir.path / "server").string(), &error);
  INFO(error);
  REQUIRE(server);
  return server;
}

// A scenario on the reference target whose payments hold their transaction
// open for `latency` (the card processor call), under `faults` (YAML).
inline std::string TriggerScenario(const std::string& faults, const std::string& latency = "30ms") {
  std::string text = ScenarioYaml("  command: [" + kServer +
                                      ", --port, \"${port}\"]\n"
                                      "  env: {PAYMENT_LATENCY: " +
                                      latency + "}\n",
                                  "faults:\n" + faults);
  text.replace(text.find("target:"), 0,
               "  setup: INSERT INTO accounts SELECT 'acct-' || g, 100000 "
               "FROM generate_series(1, 20) g\n");
  text.replace(text.find("clients: 2"), 10, "clients: 6");
  text.replace(text.find("300ms"), 5, "1s");
  return text;
}

// The check `name` of a result.json.
inline nlohmann::json CheckOf(const nlohmann::json& result, const std::string& name) {
  for (const nlohmann::json& check : result["checks"])
    if (check["name"] == name) return check;
  FAIL("no check " << name << " in " << result.dump());
  return {};
}

inline nlohmann::json ResultOf(const TempDir& dir, const std::string& name) {
  return ReadJson(dir.path / "reports" / name / "result.json");
}

// The history's nemesis events of kind `f`, in time order.
inline std::vector<nlohmann::json> EventsOf(const TempDir& dir, const std::string& name,
                                            const std::string& f) {
  std::ifstream in(dir.path / "reports" / name / "history.jsonl");
  std::vector<nlohmann::json> events;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json event = nlohmann::json::parse(line);
    if (event["process"] == "nemesis" && event["f"] == f) events.push_back(event);
  }
  return events;
}

}  // namespace lastcall

#endif  // LASTCALL_E2E_CLI_SUPPORT_H_
