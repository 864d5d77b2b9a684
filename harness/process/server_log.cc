#include "process/server_log.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace lastcall {

namespace {

// PostgreSQL 15's messages (src/backend/libpq/pqcomm.c, tcop/postgres.c):
// a client that exits without Terminate makes the backend log the first at
// DEBUG1; one that does so inside a transaction, the second at LOG. Every
// session begins with the third (log_connections).
constexpr char kEof[] = "unexpected EOF on client connection";
constexpr char kEofInTransaction[] = "unexpected EOF on client connection with an open transaction";
constexpr char kConnection[] = "connection received: ";

// A line's prefix "date time zone [pid] db role " (each "[unknown]" before
// the session has it); the application name and the message follow.
struct Prefix {
  int64_t time = -1;  // wall clock, ms since 1970; -1 if not in UTC
  int pid = 0;
  std::string database, role;
  size_t rest = 0;  // where the application name begins
};

// The milliseconds since 1970 of "2026-11-25" "12:24:16.060" "UTC", or -1.
int64_t ParseTime(const std::string& date, const std::string& time, const std::string& zone) {
  struct tm t = {};
  int ms = 0;
  if (zone != "UTC" ||
      std::sscanf(date.c_str(), "%d-%d-%d", &t.tm_year, &t.tm_mon, &t.tm_mday) != 3 ||
      std::sscanf(time.c_str(), "%d:%d:%d.%3d", &t.tm_hour, &t.tm_min, &t.tm_sec, &ms) != 4)
    return -1;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000 + ms;
}

// Splits `line` at single spaces (empty fields stay fields). Returns false
// if it does not begin with a prefix.
bool ParsePrefix(const std::string& line, Prefix* prefix) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (fields.size() < 6) {
    size_t space = line.find(' ', at);
    if (space == std::string::npos) return false;
    fields.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  const std::string& pid = fields[3];
  if (pid.size() < 3 || pid.front() != '[' || pid.back() != ']') return false;
  prefix->pid = std::atoi(pid.c_str() + 1);
  if (prefix->pid <= 0) return false;
  prefix->time = ParseTime(fields[0], fields[1], fields[2]);
  prefix->database = fields[4];
  prefix->role = fields[5];
  prefix->rest = at;
  return true;
}

// The instance whose role `role` is (role_prefix + N), else 0.
int InstanceOfRole(const std::string& role, const std::string& role_prefix) {
  if (role.size() <= role_prefix.size() || role.compare(0, role_prefix.size(), role_prefix) != 0 ||
      role.find_first_not_of("0123456789", role_prefix.size()) != std::string::npos)
    return 0;
  return std::atoi(role.c_str() + role_prefix.size());
}

// Whether the session of `pid` that connected at `connected` (wall clock,
// ms, -1 unknown) is one of lastcall's: a session of its with that pid had
// connected by the time lastcall recorded it. A later backend that reused
// the pid connected after that.
bool IsOwn(const RunSessions& run, int pid, int64_t connected) {
  for (const OwnSessions::Session& own : run.own)
    if (own.pid == pid && (connected < 0 || connected <= own.registered * 1000)) return true;
  return false;
}

}  // namespace

std::vector<UncleanDisconnect> FindUncleanDisconnects(const std::string& log,
                                                      const RunSessions& run) {
  std::vector<UncleanDisconnect> found;
  std::map<int, int64_t> connected;  // pid -> when its latest session connected
  std::istringstream lines(log);
  Prefix prefix;
  for (std::string line; std::getline(lines, line);) {
    if (!ParsePrefix(line, &prefix)) continue;
    size_t message = line.find(":  ", prefix.rest);
    if (message == std::string::npos) continue;
    message += 3;
    if (line.compare(message, sizeof kConnection - 1, kConnection) == 0) {
      connected[prefix.pid] = prefix.time;
      continue;
    }
    if (line.compare(message, sizeof kEof - 1, kEof) != 0 || prefix.database != run.database)
      continue;
    auto start = connected.find(prefix.pid);
    int64_t start_time = start == connected.end() ? -1 : start->second;
    if (IsOwn(run, prefix.pid, start_time)) continue;
    UncleanDisconnect d;
    d.role = prefix.role;
    d.instance = InstanceOfRole(prefix.role, run.role_prefix);
    if (start_time >= 0) d.connected = start_time * 1000000 - run.history_epoch;
    d.open_transaction =
        line.compare(message, sizeof kEofInTransaction - 1, kEofInTransaction) == 0;
    d.line = line;
    found.push_back(std::move(d));
  }
  return found;
}

}  // namespace lastcall
