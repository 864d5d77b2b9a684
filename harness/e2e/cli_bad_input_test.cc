// End-to-end tests of the lastcall command: Bad input: scenario files, commands, schemas, queries
// and report folders that lastcall refuses, and what it writes (or not) then.
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("a bad scenario file: file:line:column, exit 2, nothing started") {
  TempDir dir;
  std::string file =
      dir.Write("bad.yaml", ScenarioYaml("  command: [/bin/true]\n", "expect: pas\nloud: 1\n"));
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find(file + ":") != std::string::npos);
  CHECK(out.text.find("loud") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "reports"));
}

TEST_CASE("a target command that does not exist: exit 2 with the reason") {
  TempDir dir;
  Output out = RunYaml(dir, "missing", ScenarioYaml("  command: [/nonexistent/server]\n"));
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("/nonexistent/server") != std::string::npos);
  CHECK(out.text.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a target that never becomes ready: exit 3 with its log tail") {
  TempDir dir;
  Output out = RunYaml(dir, "slow",
                       ScenarioYaml("  command: [/bin/sh, -c, 'echo warming up; exec sleep 30']\n"
                                    "  ready: {http: /healthz, timeout: 300ms}\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("not ready within 300ms; its last output") != std::string::npos);
  CHECK(out.text.find("warming up") != std::string::npos);
}

TEST_CASE("a target that exits before it is ready: exit 3 with its output") {
  TempDir dir;
  Output out = RunYaml(dir, "crash",
                       ScenarioYaml("  command: [/bin/sh, -c, 'echo cannot bind >&2; exit 4']\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("exit 4") != std::string::npos);
  CHECK(out.text.find("cannot bind") != std::string::npos);
}

TEST_CASE("a schema with an SQL error: exit 2 with PostgreSQL's message and line") {
  TempDir dir;
  std::string schema = dir.Write("schema.sql",
                                 "CREATE TABLE ledger (idempotency_key text);\n"
                                 "CREATE TABLE accounts (id text,, balance bigint);\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(kSchema), kSchema.size(), schema);
  Output out = RunYaml(dir, "badschema", yaml);
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("syntax error") != std::string::npos);
  CHECK(out.text.find("line 2") != std::string::npos);
}

TEST_CASE("an audit query that fails or returns the wrong columns: exit 2") {
  TempDir dir;
  const std::string good = "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1";
  std::string yaml = ScenarioYaml(kServerTarget);
  std::string failing = yaml, wrong = yaml;
  failing.replace(failing.find(good), good.size(), "SELECT nonsense FROM ledger");
  wrong.replace(wrong.find(good), good.size(), "SELECT idempotency_key FROM ledger");
  Output out = RunYaml(dir, "failing", failing);
  INFO(out.text);
  CHECK(out.code == 2);
  // Where the query is written, then the server's message.
  CHECK(out.text.find("failing.yaml:10:12: audit.applied failed") != std::string::npos);
  CHECK(out.text.find("nonsense") != std::string::npos);
  out = RunYaml(dir, "wrong", wrong);
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("must return 2 columns") != std::string::npos);
}

TEST_CASE("a reports folder that cannot be made: exit 2, nothing started") {
  TempDir dir;
  std::string blocker = dir.Write("a-file", "not a folder\n");
  std::string file = dir.Write("ok.yaml", ScenarioYaml("  command: [/bin/true]\n"));
  Output out = Lastcall({"run", "--reports", blocker + "/reports", file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("cannot write reports to " + blocker + "/reports") != std::string::npos);
}

// Every file and folder under `root`, relative to it, links not followed.
std::set<std::string> Tree(const fs::path& root) {
  std::set<std::string> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it)
    entries.insert(fs::relative(it->path(), root).string());
  return entries;
}

TEST_CASE("a name that leads out of --reports: exit 2 at its position, nothing written outside") {
  TempDir dir;
  const fs::path reports = dir.path / "a" / "b" / "reports";
  for (const std::string name : {"../../escape", "..", ".", "/tmp/x", ""}) {
    INFO(name);
    std::string file =
        dir.Write("hostile.yaml", "name: \"" + name + "\"\n" + ScenarioYaml(kServerTarget));
    Output check = Lastcall({"check", file});
    INFO(check.text);
    CHECK(check.code == 2);
    CHECK(check.text.find(file + ":1:7: name must be folder names joined by '/'") !=
          std::string::npos);
    Output run = Lastcall({"run", "--reports", reports.string(), file});
    INFO(run.text);
    CHECK(run.code == 2);
    CHECK(Tree(dir.path) == std::set<std::string>{"hostile.yaml"});
  }
}

TEST_CASE("a symbolic link at a run's folder is not written through: exit 3") {
  TempDir dir;
  const fs::path reports = dir.path / "reports", elsewhere = dir.path / "elsewhere";
  fs::create_directories(reports);
  fs::create_directories(elsewhere);
  fs::create_symlink(elsewhere, reports / "linked");
  fs::create_symlink(elsewhere, reports / "conformance");
  for (const std::string name : {"linked", "conformance/go"}) {
    INFO(name);
    std::string file = dir.Write("s.yaml", "name: " + name + "\n" + ScenarioYaml(kServerTarget));
    Output out = Lastcall({"run", "--reports", reports.string(), file});
    INFO(out.text);
    CHECK(out.code == 3);
    const std::string link = (reports / fs::path(name).begin()->string()).string();
    CHECK(out.text.find("will not write reports through " + link + ": it is a symbolic link") !=
          std::string::npos);
    CHECK(fs::is_empty(elsewhere));
    CHECK(fs::is_symlink(link));
  }
}

TEST_CASE("a target's file name with ESC, newline and backticks: escaped in every report") {
  TempDir dir;
  const fs::path reports = dir.path / "reports";
  // The target leaves a file named ESC ]0;owned BEL (a terminal's title),
  // ESC [2J (clear the screen), a newline and ``x`` in its TMPDIR.
  const std::string leaked = "\x1b]0;owned\x07\x1b[2J\nnext ``x``";
  const std::string shown = "instance 1: \\x1b]0;owned\\x07\\x1b[2J\\nnext ``x``";
  Output out =
      RunYaml(dir, "hostile",
              ScenarioYaml("  command: [/bin/sh, -c, 'touch \"$TMPDIR/$(printf \"\\033]0;owned\\007"
                           "\\033[2J\\nnext \\140\\140x\\140\\140\")\"; exec " +
                           kServer + " --port \"$PORT\"']\n"));
  INFO(out.text);
  CHECK(out.code == 1);
  auto has_controls = [](const std::string& text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
    });
  };
  CHECK_FALSE(has_controls(out.text));
  CHECK(out.text.find("\n        " + shown + "\n") != std::string::npos);
  for (const fs::path& folder : {reports, reports / "hostile"}) {
    INFO(folder);
    const std::string summary = ReadFileOrEmpty(folder / "summary.md");
    CHECK_FALSE(has_controls(summary));
    CHECK(summary.find("  - ``` " + shown + " ```\n") != std::string::npos);
    const std::string junit = ReadFileOrEmpty(folder / "junit.xml");
    CHECK_FALSE(has_controls(junit));
    CHECK(junit.find(shown + "\n") != std::string::npos);
  }
  for (const fs::path& page : {reports / "index.html", reports / "hostile" / "index.html"})
    CHECK_FALSE(has_controls(ReadFileOrEmpty(page)));
  CHECK(ReadFileOrEmpty(reports / "hostile" / "index.html").find(shown + "<br>") !=
        std::string::npos);
  // result.json keeps the exact name.
  nlohmann::json result =
      nlohmann::json::parse(ReadFileOrEmpty(reports / "hostile" / "result.json"));
  bool found = false;
  for (const nlohmann::json& check : result["checks"])
    if (check["name"] == "temp_files")
      found = check["offending"] == nlohmann::json::array({"instance 1: " + leaked});
  CHECK(found);
}

TEST_CASE("an invariant whose query fails is bad input, whatever the expectation") {
  TempDir dir;
  const std::string invariant = "  invariants:\n    - name: typo\n      sql: SELEC 1\n";
  for (const char* expect : {"", "expect: {fail: [invariants]}\n"}) {
    Output out = RunYaml(dir, "typo", ScenarioYaml(kServerTarget, invariant + expect));
    INFO(out.text);
    CHECK(out.code == 2);
    CHECK(out.text.find("typo.yaml:13:12: audit.invariants \"typo\" failed: ERROR:  syntax "
                        "error at or near \"SELEC\"") != std::string::npos);
    CHECK(ResultOf(dir, "typo")["verdict"] == "bad input");
  }
}
