// End-to-end tests of the lastcall command: The reports: JUnit and the step summary, a full disk,
// shards merged.
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("junit.xml parses as XML and summary.md reaches the GitHub step summary") {
  TempDir dir;
  std::string reports = (dir.path / "reports").string();
  std::string step_summary = (dir.path / "step-summary.md").string();
  setenv("GITHUB_STEP_SUMMARY", step_summary.c_str(), 1);
  Output out = Lastcall({"run", "--reports", reports, "scenarios/bugs/no-drain.yaml"});
  unsetenv("GITHUB_STEP_SUMMARY");
  INFO(out.text);
  CHECK(out.code == 0);
  // A real XML parser, as CI systems use: python3's xml.etree.
  SpawnOptions parse;
  parse.argv = {"python3", "-c",
                "import sys, xml.etree.ElementTree as ET\n"
                "for f in sys.argv[1:]:\n"
                "    root = ET.parse(f).getroot()\n"
                "    assert root.tag == 'testsuites', root.tag\n"
                "    suite = root.find('testsuite')\n"
                "    assert suite.get('name') == 'no-drain'\n"
                "    assert int(suite.get('failures')) == 0\n"
                "    assert len(suite.findall('testcase')) == int(suite.get('tests'))\n",
                reports + "/junit.xml", reports + "/no-drain/junit.xml"};
  parse.env = {"PATH=/usr/bin:/bin"};
  CapturedOutput python = RunCaptured(parse, std::chrono::seconds(30));
  INFO(python.output);
  CHECK(python.Outcome() == "exit 0");
  std::string text = ReadFileOrEmpty(step_summary);
  CHECK(text.find("1 of 1 scenario runs met their expectation") != std::string::npos);
  CHECK(text.find("**drained** failed") != std::string::npos);
}

namespace {

// A tmpfs of `kib` KiB mounted on a fresh folder (root only), unmounted at
// the end. mounted() is false where mount(2) is not allowed.
struct TinyDisk {
  TempDir dir;
  bool mounted_ = false;
  explicit TinyDisk(int kib) {
    std::string command = "mount -t tmpfs -o size=" + std::to_string(kib) + "k tmpfs " +
                          dir.path.string() + " 2>/dev/null";
    mounted_ = geteuid() == 0 && std::system(command.c_str()) == 0;
  }
  ~TinyDisk() {
    if (mounted_) std::system(("umount " + dir.path.string()).c_str());
  }
  bool mounted() const { return mounted_; }
  // Takes every free byte with one file.
  void Fill() const {
    std::ofstream filler(dir.path / "filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) filler.flush();
  }
};

}  // namespace

TEST_CASE("a full disk while writing reports: exit 3, the previous reports intact") {
  TinyDisk disk(4096);
  if (!disk.mounted()) return SkipTest("not root or mount(2) not allowed: no tmpfs");
  TempDir dir;
  std::string file = dir.Write("full.yaml", ScenarioYaml(kServerTarget));
  const std::string reports = (disk.dir.path / "reports").string();
  Output out = Lastcall({"run", "--reports", reports, file});
  INFO(out.text);
  REQUIRE(out.code == 0);
  const fs::path report = disk.dir.path / "reports" / "full";
  std::map<std::string, std::string> previous;
  for (const auto& entry : fs::directory_iterator(report))
    previous[entry.path().filename().string()] = ReadFileOrEmpty(entry.path());
  CHECK(previous.count("result.json") == 1);
  CHECK(previous.count("target.log") == 1);

  disk.Fill();
  out = Lastcall({"run", "--reports", reports, file});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("No space left on device") != std::string::npos);
  // Each report file is the previous one, byte for byte: no truncated
  // target.log, no half-written result.json, no temporary files left.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(report))
    names.push_back(entry.path().filename().string());
  CHECK(names.size() == previous.size());
  for (const std::string& name : names) {
    INFO(name << " is not the previous one");
    CHECK(ReadFileOrEmpty(report / name) == previous[name]);
  }
}

namespace {

// (scenario run, verdict) of each testsuite of a junit.xml, in order.
std::vector<std::pair<std::string, std::string>> JunitVerdicts(const fs::path& junit) {
  const std::string xml = ReadFileOrEmpty(junit);
  static const std::regex kSuite(
      "<testsuite name=\"([^\"]*)\"[\\s\\S]*?name=\"verdict\" value=\"([^\"]*)\"");
  std::vector<std::pair<std::string, std::string>> verdicts;
  for (std::sregex_iterator it(xml.begin(), xml.end(), kSuite), end; it != end; ++it)
    verdicts.emplace_back((*it)[1], (*it)[2]);
  return verdicts;
}

}  // namespace

TEST_CASE("run --shard K/N and report --merge give the verdicts of the unsharded run") {
  TempDir dir, suite;
  const std::string fault = "faults:\n  - {at: 100ms, signal: TERM, grace: 400ms}\n";
  suite.Write("a.yaml", ScenarioYaml(kServerTarget, fault));
  // Ignores SIGTERM: `exit` fails, so this run misses its expectation.
  suite.Write("b.yaml", ScenarioYaml("  command: [" + kServer +
                                         ", --port, \"${port}\", --bug, ignore-signal]\n",
                                     fault));
  suite.Write("c.yaml", ScenarioYaml(kServerTarget));
  auto reports = [&](const std::string& name) { return (dir.path / name).string(); };
  Output whole = Lastcall({"run", "--reports", reports("whole"), suite.path.string()});
  INFO(whole.text);
  REQUIRE(whole.code == 1);
  for (const char* shard : {"1/2", "2/2"}) {
    Output out = Lastcall({"run", "--shard", shard, "--reports",
                           reports(std::string("shard") + shard[0]), suite.path.string()});
    INFO(out.text);
    CHECK(out.code == (shard[0] == '1' ? 0 : 1));  // a and c; b
  }
  const nlohmann::json manifest =
      nlohmann::json::parse(ReadFileOrEmpty(dir.path / "shard1" / "shard.json"));
  CHECK(manifest["runs"] == 3);
  CHECK(manifest["mine"].size() == 2);
  CHECK(fs::exists(dir.path / "shard1" / "c" / "result.json"));
  CHECK_FALSE(fs::exists(dir.path / "shard1" / "b"));

  Output merged = Lastcall(
      {"report", "--merge", reports("shard2"), reports("shard1"), "--reports", reports("merged")});
  INFO(merged.text);
  CHECK(merged.code == 1);
  const auto verdicts = JunitVerdicts(dir.path / "whole" / "junit.xml");
  REQUIRE(verdicts.size() == 3);
  CHECK(verdicts[1] == std::make_pair(std::string("b"), std::string("not met")));
  CHECK(JunitVerdicts(dir.path / "merged" / "junit.xml") == verdicts);
  CHECK(ReadFileOrEmpty(dir.path / "merged" / "index.html").find("../shard2/b/index.html") !=
        std::string::npos);

  // With --repeat, each scenario's tally is out of its runs in the shard:
  // of a/1 b/1 c/1 a/2 b/2 c/2, shard 1/2 runs a/1, c/1 and b/2.
  Output repeated = Lastcall({"run", "--shard", "1/2", "--repeat", "2", "--reports",
                              reports("repeated"), suite.path.string()});
  INFO(repeated.text);
  CHECK(repeated.text.find("over 2 repetitions (the runs of this shard):\n"
                           "    1/1  a\n    0/1  b\n    1/1  c\n") != std::string::npos);

  Output missing = Lastcall({"report", "--merge", reports("shard1"), "--reports", reports("m2")});
  CHECK(missing.code == 2);
  CHECK(missing.text.find("shard 2/2") != std::string::npos);
  for (const char* bad : {"0/0", "3/2", "x"}) {
    Output out =
        Lastcall({"run", "--shard", bad, "--reports", reports("bad"), suite.path.string()});
    CHECK(out.code == 2);
    CHECK(out.text.find("--shard must be K/N") != std::string::npos);
  }
}
