// End-to-end tests of `lastcall explore`: the real lastcall binary against
// the reference target and the embedded PostgreSQL. A buggy target must be
// caught within a few runs, shrunk, and written as a repro file that
// `lastcall run` reproduces; the correct target must give nothing.
#include <filesystem>
#include <regex>

#include <catch2/catch.hpp>

#include "e2e/cli_support.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

// An explore base around the reference target started with `server_args`:
// short loads (`duration`), each run well under two seconds by default; each
// payment holds its transaction open for 5 ms, where the bug catalogue's
// scenario takes 200 ms.
std::string Base(const std::string& server_args, const std::string& explore,
                 const std::string& duration = "800ms") {
  return "seed: 1\n"
         "database:\n"
         "  schema: " LASTCALL_SOURCE_DIR
         "/targets/payment-server/schema.sql\n"
         "  setup: INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM generate_series(1, 200) "
         "g;\n"
         "target:\n"
         "  command: [" PAYMENT_SERVER_BINARY ", --port, \"${port}\"" +
         server_args +
         "]\n"
         "  env: {DRAIN_TIMEOUT: 5s, PAYMENT_LATENCY: 5ms}\n"
         "load:\n"
         "  clients: 4\n"
         "  duration: " +
         duration +
         "\n"
         "  request:\n"
         "    headers: {Idempotency-Key: \"${key}\", Content-Type: application/json}\n"
         "    body: '{\"from\":\"acct-${from}\",\"to\":\"acct-${to}\",\"amount\":${amount}}'\n"
         "  accounts: {count: 200, amount: [1, 500]}\n"
         "  retry: {on: [reset, timeout, refused, 503], attempts: 3, backoff: 20ms}\n"
         "audit:\n"
         "  applied: SELECT idempotency_key, count(*) FROM ledger GROUP BY 1\n"
         "  invariants:\n"
         "    - name: money is conserved\n"
         "      sql: SELECT sum(balance) FROM accounts HAVING sum(balance) <> 20000000\n"
         "explore:\n" +
         explore;
}

// Signals at any moment of the load, or inside open transactions.
const char* kBounds =
    "  signals: [TERM, KILL]\n"
    "  triggers: {at: [100ms, 600ms], db_transactions_open: [1, 2]}\n"
    "  grace: [1s, 3s]\n"
    "  clients: [2, 4]\n";

// TERM inside open transactions: abandon-transaction fails at such a moment
// every time (when each lasts long enough: see the test), so the failure is
// confirmed and shrunk.
const char* kInsideTransactions =
    "  signals: [TERM]\n"
    "  triggers: {db_transactions_open: [1, 2]}\n"
    "  grace: [1s, 3s]\n"
    "  clients: [2, 4]\n";

// KILL right after an answer, then a new instance, eight to ten times a
// run (all fire within a 3 s load): respond-before-commit with no processor
// latency commits within a millisecond of its answer, and about one KILL in
// ten lands in between. With 4-6 KILLs a repro met its expectation 8 times
// in 20, with 8-10 13 times.
const char* kKillsAfterAnswers =
    "  signals: [KILL]\n"
    "  triggers: {completed: [20, 300]}\n"
    "  faults: [8, 10]\n"
    "  restart: [true]\n"
    "  clients: [32, 64]\n";

// lastcall `args`, its output in *output; returns its exit.
std::string Lastcall(std::vector<std::string> args, std::string* output) {
  args.insert(args.begin(), LASTCALL_BINARY);
  CapturedOutput run = RunCaptured(FromSourceFolder(args), std::chrono::seconds(170));
  *output = run.output;
  return run.Outcome();
}

// How many of `repeat` runs of `repro` met its expectation (it fails its
// checks).
int Reproduced(const TempDir& dir, const std::string& repro, int repeat) {
  std::string replay;
  Lastcall({"run", repro, "--repeat", std::to_string(repeat), "--reports",
            (dir.path / "replay").string()},
           &replay);
  INFO(replay);
  std::smatch met;
  REQUIRE(std::regex_search(replay, met, std::regex("\\s(\\d+)/" + std::to_string(repeat) + "  ")));
  return std::stoi(met[1]);
}

}  // namespace

TEST_CASE("explore finds abandon-transaction, shrinks it, and lastcall run reproduces it",
          "[explore]") {
  TempDir dir;
  // Only transactions_abandoned is looked for: with one client, a TERM
  // inside a transaction leaves no request for `drained` to count.
  const std::string base =
      dir.Write("abandon.yaml", Base(", --bug, abandon-transaction", kInsideTransactions) +
                                    "expect: {pass: [transactions_abandoned]}\n");
  const std::string reports = (dir.path / "reports").string();
  std::string output;
  // Seed 10's first run fails; a second leaves room for a busy machine. 5 ms
  // transactions sometimes end between the watch seeing one and the TERM
  // (a 2-client candidate passed 1 of 3); 50 ms ones never did. At most 3
  // shrink candidates keep the test short (each accepted, 4.3 s, measured).
  CHECK(Lastcall({"explore", base, "--runs", "2", "--seed", "10", "--set",
                  "target.env.PAYMENT_LATENCY=50ms", "--shrink-tries", "3", "--reports", reports},
                 &output) == "exit 1");
  INFO(output);
  std::smatch repro;
  REQUIRE(std::regex_search(
      output, repro, std::regex("repro: (\\S+/repro-(\\w+)\\.yaml)  \\((\\d+) shrink steps")));
  // Inside a transaction the failure is steady: confirmed in every run, and
  // shrunk (a client fewer, a shorter load, an earlier count...).
  CHECK(std::regex_search(output, std::regex("confirming: transactions_abandoned 3/3")));
  CHECK(std::stoi(repro[3]) >= 1);
  const std::string text = ReadFileOrEmpty(repro[1]);
  CHECK(text.find("# Found by lastcall explore " + base + " --seed 10") == 0);
  CHECK(text.find("transactions_abandoned") != std::string::npos);
  CHECK(text.find("explore:") == std::string::npos);
  // An ordinary scenario file: lastcall run meets its expect: {fail: [...]}
  // (20 of 20 measured; one miss allowed for a loaded CI machine).
  CHECK(Reproduced(dir, repro[1], 5) >= 4);
}

TEST_CASE("explore finds respond-before-commit's millisecond window with --set", "[explore]") {
  TempDir dir;
  const std::string base =
      dir.Write("respond.yaml", Base(", --bug, respond-before-commit", kKillsAfterAnswers, "3s"));
  std::string output;
  // The base's payments take 5 ms; --set takes the latency away, and the
  // repro file must say so. Seed 1's first run failed in each of 4
  // measurements (seeds 2 and 3: runs 3 and 1); 6 runs leave room. Not
  // shrunk (a KILL fewer makes it rarer), so that the test stays short.
  CHECK(Lastcall(
            {"explore", base, "--runs", "6", "--seed", "1", "--set", "target.env.PAYMENT_LATENCY=0",
             "--shrink-tries", "0", "--reports", (dir.path / "reports").string()},
            &output) == "exit 1");
  INFO(output);
  std::smatch repro;
  REQUIRE(std::regex_search(output, repro, std::regex("repro: (\\S+/repro-lost\\.yaml)")));
  const std::string text = ReadFileOrEmpty(repro[1]);
  INFO(text);
  CHECK(text.find(" --set target.env.PAYMENT_LATENCY=0: run ") != std::string::npos);
  CHECK(text.find("PAYMENT_LATENCY: 0") != std::string::npos);
  CHECK(text.find("PAYMENT_LATENCY: 5ms") == std::string::npos);
  CHECK(Reproduced(dir, repro[1], 8) >= 1);
}

TEST_CASE("explore refuses a --set that makes the base invalid, before running", "[explore]") {
  TempDir dir;
  const std::string base = dir.Write("correct.yaml", Base("", kBounds));
  std::string output;
  CHECK(Lastcall({"explore", base, "--runs", "1", "--set", "load.clients=many", "--reports",
                  (dir.path / "reports").string()},
                 &output) == "exit 2");
  INFO(output);
  CHECK(output.find(base + ":") != std::string::npos);
  CHECK(output.find("exploring") == std::string::npos);
}

TEST_CASE("explore finds nothing wrong with the correct target", "[explore]") {
  TempDir dir;
  const std::string base = dir.Write("correct.yaml", Base("", kBounds));
  std::string output;
  CHECK(Lastcall({"explore", base, "--runs", "2", "--seed", "10", "--reports",
                  (dir.path / "reports").string()},
                 &output) == "exit 0");
  INFO(output);
  CHECK(output.find("explore: 2 runs, 0 failed") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "reports/explore/repro-transactions_abandoned.yaml"));
}
