// End-to-end tests of `lastcall explore`: the real lastcall binary against
// the reference target and the embedded PostgreSQL. A buggy target must be
// caught within a few runs, shrunk, and written as a repro file that
// `lastcall run` reproduces; the correct target must give nothing.
#include <filesystem>
#include <regex>

#include <catch2/catch.hpp>

#include "execute.h"
#include "temp_dir.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

// An explore base around the reference target started with `server_args`:
// short loads, each run well under two seconds; each payment holds its
// transaction open for 5 ms, where the bug catalogue's scenario takes 200 ms.
std::string Base(const std::string& server_args, const std::string& explore) {
  return "seed: 1\n"
         "database:\n"
         "  schema: " LASTCALL_SOURCE_DIR "/targets/payment-server/schema.sql\n"
         "  setup: INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM generate_series(1, 200) g;\n"
         "target:\n"
         "  command: [" PAYMENT_SERVER_BINARY ", --port, \"${port}\"" + server_args + "]\n"
         "  env: {DRAIN_TIMEOUT: 5s, PAYMENT_LATENCY: 5ms}\n"
         "load:\n"
         "  clients: 4\n"
         "  duration: 800ms\n"
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
         "explore:\n" + explore;
}

// Signals at any moment of the load, or inside open transactions.
const char* kBounds =
    "  signals: [TERM, KILL]\n"
    "  triggers: {at: [100ms, 600ms], db_transactions_open: [1, 2]}\n"
    "  grace: [1s, 3s]\n"
    "  clients: [2, 4]\n";

// lastcall `args`, with its output in dir/NAME.log; returns its exit.
std::string Lastcall(const TempDir& dir, const std::string& name,
                     std::vector<std::string> args, std::string* output) {
  args.insert(args.begin(), LASTCALL_BINARY);
  const std::string log = (dir.path / (name + ".log")).string();
  std::string exit = Execute(args, log);
  *output = Read(log);
  return exit;
}

}  // namespace

TEST_CASE("explore finds abandon-transaction and writes a repro that lastcall run reproduces",
          "[explore]") {
  TempDir dir;
  const std::string base = dir.Write("abandon.yaml", Base(", --bug, abandon-transaction", kBounds));
  const std::string reports = (dir.path / "reports").string();
  std::string output;
  // Seed 10 draws TERM inside a transaction first; a few runs leave room
  // for a busy machine. At most 2 shrink candidates keep the test short.
  CHECK(Lastcall(dir, "explore", {"explore", base, "--runs", "4", "--seed", "10",
                                  "--shrink-tries", "2", "--reports", reports},
                 &output) == "exit 1");
  INFO(output);
  std::smatch repro;
  REQUIRE(std::regex_search(output, repro, std::regex("repro: (\\S+/repro-(\\w+)\\.yaml)  \\((\\d+) shrink steps")));
  // Only a failure confirmed in every run is shrunk; the window is a few
  // milliseconds, so now and then one of the three runs misses it (CI saw
  // "2/3" once) and the repro is written as found.
  if (std::regex_search(output, std::regex("confirming: " + repro[2].str() + " 3/3")))
    CHECK(std::stoi(repro[3]) >= 1);
  else
    CHECK(std::stoi(repro[3]) == 0);
  const std::string text = Read(repro[1]);
  CHECK(text.find("# Found by lastcall explore " + base + " --seed 10") == 0);
  CHECK(text.find("transactions_abandoned") != std::string::npos);
  CHECK(text.find("explore:") == std::string::npos);

  // An ordinary scenario file: lastcall run meets its expect: {fail: [...]}
  // (not necessarily every time: the first run of a session polls the
  // database more slowly, and the window is a few milliseconds).
  std::string replay;
  Lastcall(dir, "replay", {"run", repro[1], "--repeat", "5", "--reports", reports + "-replay"},
           &replay);
  INFO(replay);
  std::smatch met;
  REQUIRE(std::regex_search(replay, met, std::regex("\\s(\\d)/5  ")));
  CHECK(std::stoi(met[1]) >= 1);
}

TEST_CASE("explore finds nothing wrong with the correct target", "[explore]") {
  TempDir dir;
  const std::string base = dir.Write("correct.yaml", Base("", kBounds));
  std::string output;
  CHECK(Lastcall(dir, "explore", {"explore", base, "--runs", "2", "--seed", "10", "--reports",
                                  (dir.path / "reports").string()},
                 &output) == "exit 0");
  INFO(output);
  CHECK(output.find("explore: 2 runs, 0 failed") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "reports/explore/repro-transactions_abandoned.yaml"));
}
