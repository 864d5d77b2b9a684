#include "server_log.h"

#include <sstream>

namespace lastcall {

namespace {

// PostgreSQL 15's messages (src/backend/libpq/pqcomm.c, tcop/postgres.c):
// a client that exits without Terminate makes the backend log the first at
// DEBUG1; one that does so inside a transaction, the second at LOG.
constexpr char kEof[] = "unexpected EOF on client connection";
constexpr char kEofInTransaction[] =
    "unexpected EOF on client connection with an open transaction";

// The application_name field of a line "date time zone [pid] db app LEVEL: ...".
std::string ApplicationOf(const std::string& line) {
  std::istringstream fields(line);
  std::string date, time, zone, pid, db, app;
  fields >> date >> time >> zone >> pid >> db >> app;
  return app;
}

}  // namespace

std::vector<UncleanDisconnect> FindUncleanDisconnects(
    const std::string& log, const std::string& application_prefix) {
  std::vector<UncleanDisconnect> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(kEof);
    if (at == std::string::npos) continue;
    std::string app = ApplicationOf(line);
    if (app.compare(0, application_prefix.size(), application_prefix) != 0)
      continue;
    bool in_transaction = line.find(kEofInTransaction, at) == at;
    found.push_back(UncleanDisconnect{app, in_transaction, line});
  }
  return found;
}

}  // namespace lastcall
