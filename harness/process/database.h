// The database the target writes to: an embedded PostgreSQL that the harness
// runs itself from the system's binaries, or an existing server (--db URL).
// Either way each scenario run gets a fresh database of its own, cloned from a
// template that holds the scenario's schema.
#ifndef LASTCALL_DATABASE_H_
#define LASTCALL_DATABASE_H_

#include "process/embedded_postgres.h"
#include "process/own_sessions.h"
#include "process/postgres_url.h"
#include "process/run_databases.h"

#endif  // LASTCALL_DATABASE_H_
