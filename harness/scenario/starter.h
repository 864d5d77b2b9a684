// `lastcall init`: a starter scenario for the user's own service, written
// from a few facts about it (how to start it, its health check, its payment
// endpoint, its schema), commented so that it teaches the format, with what
// only the user can know left as marked TODOs that `lastcall check` accepts.
#ifndef LASTCALL_STARTER_H_
#define LASTCALL_STARTER_H_

#include <string>
#include <vector>

namespace lastcall {

struct StarterOptions {
  std::string name;                  // the scenario's name
  std::vector<std::string> command;  // argv of the service
  std::string health_path = "/healthz";
  std::string method = "POST", path = "/payments";  // the endpoint
  // The schema file as the scenario will name it (relative to the
  // scenario's folder), "" for none; schema_sql is its text, read to guess
  // the audit query.
  std::string schema, schema_sql;
  std::string json_schema;  // for the yaml-language-server line, "" for none
};

// Splits "POST /pay" (or "/pay", POST implied) into *method and *path.
// Returns false when the text is not METHOD PATH with PATH starting "/".
bool ParseEndpoint(const std::string& text, std::string* method, std::string* path);

// The argv of a command line, split at spaces (no quoting: arguments with
// spaces are edited in the file afterwards).
std::vector<std::string> SplitCommand(const std::string& text);

// The idempotency-key column of the schema and its table, guessed from
// `schema_sql`: the first CREATE TABLE with a column whose name contains
// "idempot", else the first with a text or uuid column named *key* or
// *token* that is its PRIMARY KEY or UNIQUE. Returns false when there is none.
bool GuessLedger(const std::string& schema_sql, std::string* table, std::string* column);

// The starter scenario's YAML text.
std::string StarterScenario(const StarterOptions& options);

}  // namespace lastcall

#endif  // LASTCALL_STARTER_H_
