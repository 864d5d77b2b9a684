// End-to-end tests of the lastcall command: Several runs at once (--jobs, a shared reports folder)
// and WebSocket clients.
#include "e2e/cli_support.h"

using namespace lastcall;

namespace {

// The load window of a run's result.json, in seconds since 1970.
std::pair<double, double> LoadWindow(const fs::path& result_json) {
  nlohmann::json json = ReadJson(result_json);
  double start = json["timings"]["load_started_at"].get<double>();
  return {start, start + json["timings"]["load"].get<double>()};
}

// Runs two 2 s scenarios with `jobs` and tells whether their load windows
// overlapped; both must meet their expectations.
bool LoadsOverlapped(int jobs) {
  TempDir dir;
  fs::create_directory(dir.path / "suite");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find("300ms"), 5, "2s");
  for (const char* name : {"first", "second"})
    dir.Write(std::string("suite/") + name + ".yaml", yaml);
  const fs::path reports = dir.path / "reports";
  Output out = Lastcall({"run", "--jobs", std::to_string(jobs), "--reports", reports.string(),
                         (dir.path / "suite").string()});
  INFO(out.text);
  REQUIRE(out.code == 0);
  auto [first_start, first_end] = LoadWindow(reports / "first" / "result.json");
  auto [second_start, second_end] = LoadWindow(reports / "second" / "result.json");
  return first_start < second_end && second_start < first_end;
}

}  // namespace

TEST_CASE("run --jobs 2 runs two scenarios side by side, both meeting their expectations") {
  CHECK(LoadsOverlapped(2));
  CHECK_FALSE(LoadsOverlapped(1));  // the same check on serial runs
}

TEST_CASE("a second lastcall on the same reports folder is refused while the first runs") {
  TempDir dir;
  std::string file = LongScenario(dir);
  std::string reports = (dir.path / "reports").string();
  Output second;
  // Once the first one's target is serving, the second one tries; then the
  // first is interrupted.
  Output first = Lastcall({"run", "--reports", reports, file}, SIGINT, [&] {
    if (!LongTargetServing(reports)) return false;
    second = Lastcall({"run", "--reports", reports, file});
    return true;
  });
  INFO(first.text);
  INFO(second.text);
  CHECK(second.code == 3);
  CHECK(second.text.find("the reports folder " + reports + " is in use by another lastcall") !=
        std::string::npos);
  CHECK(first.code == 130);
  // The lock went with the first one: the folder is free again.
  std::string short_file = dir.Write("short.yaml", ScenarioYaml(kServerTarget));
  CHECK(Lastcall({"run", "--reports", reports, short_file}).code == 0);
}

TEST_CASE("WebSocket clients hear of every payment and each gets 1001 after SIGTERM") {
  TempDir dir;
  std::string yaml = TriggerScenario("  - {when: {completed: 30}, signal: TERM}\n");
  yaml.replace(yaml.find("\"${port}\"]"), 10, "\"${port}\", --ws-port, \"${ws_port}\"]");
  yaml.replace(yaml.find("  request:"), 0, "  websockets: {clients: 3, port: \"${ws_port}\"}\n");
  Output out = RunYaml(dir, "ws", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json result = ResultOf(dir, "ws");
  int64_t signal = -1;
  std::vector<nlohmann::json> sockets;
  std::ifstream history(dir.path / "reports" / "ws" / "history.jsonl");
  for (std::string line; std::getline(history, line);) {
    nlohmann::json op = nlohmann::json::parse(line);
    if (op["f"] == "signal") signal = op["time"].get<int64_t>();
    if (op["f"] == "websocket" && op["type"] != "invoke") sockets.push_back(op);
  }
  REQUIRE(sockets.size() == 3);
  for (const nlohmann::json& socket : sockets) {
    INFO(socket.dump());
    // A message per payment applied: every acknowledged one (no retries,
    // so no replays), pushed before the close frame.
    CHECK(socket["value"]["messages"] == result["counts"]["ok"]);
    CHECK(socket["value"]["close_code"] == 1001);
    CHECK(socket["value"]["closed_by_lastcall"] == false);
    CHECK(socket["value"]["close_time"].get<int64_t>() > signal);
  }
}
