#include "scenario/starter.h"

#include <regex>
#include <sstream>

namespace lastcall {

namespace {

// A YAML double-quoted scalar: any text, read back unchanged.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string FlowList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? ", " : "") + Quoted(item);
  return out + "]";
}

// audit.applied: exact when the schema shows its ledger, else a TODO that
// names the table and column to replace (the run then stops with exit 2 and
// PostgreSQL's "relation ... does not exist" until it is done).
std::string AppliedQuery(const StarterOptions& options) {
  std::string table, column;
  if (GuessLedger(options.schema_sql, &table, &column))
    return "  # Guessed from the schema (" + table + "." + column +
           "); check it.\n"
           "  applied: SELECT " +
           column + ", count(*) FROM " + table + " GROUP BY 1\n";
  return "  # TODO: one row per idempotency key your service recorded, and how many times\n"
         "  # it applied it. Replace the table and the column with yours.\n"
         "  applied: SELECT idempotency_key, count(*) FROM TODO_payments GROUP BY 1\n";
}

}  // namespace

bool ParseEndpoint(const std::string& text, std::string* method, std::string* path) {
  std::smatch match;
  if (!std::regex_match(text, match, std::regex("(?:([A-Za-z]+) +)?(/\\S*)"))) return false;
  *method = match[1].matched ? match[1].str() : "POST";
  for (char& c : *method) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  *path = match[2];
  return true;
}

std::vector<std::string> SplitCommand(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> argv;
  for (std::string word; in >> word;) argv.push_back(word);
  return argv;
}

bool GuessLedger(const std::string& schema_sql, std::string* table, std::string* column) {
  static const std::regex kTable(
      R"(CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."]+)\s*\(([^;]*))", std::regex::icase);
  // An idempotency column by name, else a unique text key or token column.
  static const std::regex kColumns[] = {
      std::regex(R"((?:^|[(,])\s*("?\w*idempot\w*"?))", std::regex::icase),
      std::regex(R"((?:^|[(,])\s*("?\w*(?:key|token)\w*"?)\s+(?:text|varchar|uuid)[^,]*)"
                 R"((?:PRIMARY\s+KEY|UNIQUE))",
                 std::regex::icase)};
  for (const std::regex& column_pattern : kColumns)
    for (std::sregex_iterator it(schema_sql.begin(), schema_sql.end(), kTable), end; it != end;
         ++it) {
      const std::string body = (*it)[2];
      std::smatch match;
      if (std::regex_search(body, match, column_pattern)) {
        *table = (*it)[1];
        *column = match[1];
        return true;
      }
    }
  return false;
}

std::string StarterScenario(const StarterOptions& o) {
  std::string out;
  if (!o.json_schema.empty()) out += "# yaml-language-server: $schema=" + o.json_schema + "\n";
  out +=
      "# A starter scenario written by `lastcall init`: SIGTERM while clients are paying.\n"
      "# Validate it with `lastcall check FILE`, run it with `lastcall run FILE`.\n"
      "# Lines marked TODO need what only you know. The format: docs/scenario-format.md\n"
      "# in lastcall's repository.\n"
      "name: " +
      Quoted(o.name) +
      "\n"
      "description: SIGTERM under load; nothing acknowledged may be lost or applied twice\n"
      "seed: 1\n"
      "# Run first without the SIGTERM (a control run): if payments are lost or an\n"
      "# invariant breaks even then, the service has a bug that is not its shutdown's,\n"
      "# and the verdict says \"invalid: fails without a fault\" (exit 4) instead of\n"
      "# blaming the shutdown. It doubles the run's time.\n"
      "control: true\n\n"
      "database:\n"
      "  embedded: true   # lastcall starts its own PostgreSQL; a fresh database per run\n";
  if (o.schema.empty())
    out +=
        "  # TODO: your schema, run before the service starts (path relative to this file):\n"
        "  # schema: schema.sql\n";
  else
    out += "  schema: " + Quoted(o.schema) + "   # relative to this file\n";
  out +=
      "  # TODO: data the payments need, e.g. accounts with money on them:\n"
      "  # setup: |\n"
      "  #   INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM generate_series(1, 20) g;\n\n"
      "target:\n"
      "  # As argv, never through a shell. ${port} is the port lastcall chose; the service\n"
      "  # also gets PORT, DATABASE_URL (its own database role), PG* and a private TMPDIR.\n"
      "  command: " +
      FlowList(o.command) +
      "\n"
      "  ready: {http: " +
      Quoted(o.health_path) +
      ", timeout: 20s}   # 2xx here = ready\n"
      "  clean_exit: [0]   # add TERM if your framework re-raises the signal after clean-up\n\n"
      "load:\n"
      "  clients: 8        # concurrent connections, each a closed loop\n"
      "  duration: 2s\n"
      "  request:\n"
      "    method: " +
      o.method +
      "\n"
      "    path: " +
      Quoted(o.path) +
      "\n"
      "    # ${key} is unique per payment and the same on every retry of it.\n"
      "    headers: {Idempotency-Key: \"${key}\", Content-Type: application/json}\n"
      "    # TODO: your request body. ${from} and ${to} are two distinct numbers in\n"
      "    # 1..accounts.count, ${amount} one in accounts.amount.\n"
      "    body: '{\"from\":\"acct-${from}\",\"to\":\"acct-${to}\",\"amount\":${amount}}'\n"
      "    timeout: 5s\n"
      "  accounts: {count: 20, amount: [1, 500]}\n"
      "  # Retried with the same key: a correct service applies each payment once.\n"
      "  retry: {on: [reset, timeout, refused, 503], attempts: 5, backoff: 50ms}\n\n"
      "faults:\n"
      "  # SIGTERM once 50 payments were answered (under load, after the warm-up), then\n"
      "  # SIGKILL if the service has not exited 10 s later. See `lastcall senders` for\n"
      "  # how Kubernetes, Docker, systemd... stop a process (sender: kubernetes).\n"
      "  - when: {completed: 50}\n"
      "    signal: TERM\n"
      "    grace: 10s\n\n"
      "audit:\n" +
      AppliedQuery(o) +
      "  # TODO: what must always hold; each query returns the rows that violate it.\n"
      "  # invariants:\n"
      "  #   - name: money is conserved\n"
      "  #     sql: SELECT sum(balance) FROM accounts HAVING sum(balance) <> 2000000\n"
      "  checks: default   # every check that applies; `lastcall checks` lists them\n\n"
      "expect: pass\n";
  return out;
}

}  // namespace lastcall
