// The per-run databases. See run_databases.h.
#include "process/run_databases.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "process/postgres_url.h"

namespace lastcall {
namespace {

// pg_advisory_lock(int, int) namespace for template creation: "lc" "tp".
constexpr int kTemplateLockClass = 0x6c637470;

// 64-bit FNV-1a: stable across builds and machines (template names persist
// on external servers).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hex16(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Turns libpq's error text ("ERROR:  ...\nLINE 3: ...\n        ^\n") into
// "line 3: ERROR:  ..." plus the rest, when it carries a position.
std::string SchemaError(const std::string& what) {
  std::string msg = what;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  size_t at = msg.find("\nLINE ");
  if (at == std::string::npos) return msg;
  int line = std::atoi(msg.c_str() + at + 6);
  if (line <= 0) return msg;
  return "line " + std::to_string(line) + ": " + msg;
}

// DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13.
std::string ForceClause(pqxx::connection& admin) {
  return admin.server_version() >= 130000 ? " WITH (FORCE)" : "";
}

// Runs `sql` (any number of statements) as one simple-protocol query: they
// run as one implicit transaction, and an error's position is an offset into
// the whole text, which libpq turns into "LINE n:". Returns "" on success,
// else the error with its line.
std::string ExecuteScript(pqxx::connection& c, const std::string& sql) {
  if (sql.empty()) return "";
  try {
    pqxx::nontransaction(c).exec(sql);
    return "";
  } catch (const pqxx::sql_error& e) {
    return SchemaError(e.what());
  }
}

// One statement each: a role that still owns objects (in another database)
// must not keep the others.
void DropRoles(pqxx::connection& admin, const std::vector<std::string>& roles) {
  for (const std::string& role : roles) {
    try {
      pqxx::nontransaction(admin).exec("DROP ROLE IF EXISTS " + admin.quote_name(role));
    } catch (const pqxx::sql_error&) {
    }
  }
}

// Whether `admin` logs in as a superuser: only then does lastcall give a
// template (and so each run's database) an owner role of its own.
bool IsSuperuser(pqxx::connection& admin) {
  return pqxx::nontransaction(admin)
             .exec("SELECT current_setting('is_superuser')")[0][0]
             .as<std::string>() == "on";
}

// The role that owns template `tpl` and what its schema made: the
// template's own, or the user without superuser rights who made it; ""
// for a superuser, whom no target's role may be a member of (SET ROLE would
// make it one).
std::string TemplateOwner(pqxx::connection& admin, const std::string& tpl) {
  pqxx::nontransaction w(admin);
  pqxx::result r = w.exec(
      "SELECT r.rolname, r.rolsuper FROM pg_database d JOIN pg_roles r ON "
      "r.oid = d.datdba WHERE d.datname = " +
      w.quote(tpl));
  return r.empty() || r[0][1].as<bool>() ? "" : r[0][0].as<std::string>();
}

// When `watch` cancelled what `what` names: sets *failure and *error so and
// returns true.
bool StoppedBy(const StatementWatch& watch, const std::string& what, RunDatabases::Failure* failure,
               std::string* error) {
  switch (watch.stop()) {
    case StatementWatch::Stop::kNone:
      return false;
    case StatementWatch::Stop::kInterrupted:
      *failure = RunDatabases::Failure::kInterrupted;
      *error = what;
      return true;
    case StatementWatch::Stop::kTimedOut:
      *failure = RunDatabases::Failure::kTimedOut;
      *error = what + " did not finish in the time allowed";
      return true;
  }
  return false;
}

// Makes template database `tpl` with `content` applied, unless it exists.
// The schema and the setup run logged in as a role of the template's own,
// `tpl` (no superuser, no CREATEDB, no CREATEROLE), which owns the template
// and, through it, each run's database and everything the schema made: a
// schema that alters roles or the server fails, its own run alone. Without
// a superuser login, they run as `admin_url`'s user.
bool EnsureTemplate(pqxx::connection& admin, const std::string& admin_url, const std::string& tpl,
                    const DatabaseContent& content, const StatementLimits& limits,
                    RunDatabases::Failure* failure, std::string* error) {
  const std::string q_tpl = admin.quote_name(tpl);
  const bool owned = IsSuperuser(admin);
  {
    pqxx::nontransaction w(admin);
    pqxx::result r =
        w.exec("SELECT datistemplate FROM pg_database WHERE datname = " + w.quote(tpl));
    if (!r.empty()) {
      if (r[0][0].as<bool>()) return true;
      // Half-made by a run that died while applying the schema.
      w.exec("DROP DATABASE " + q_tpl + ForceClause(admin));
    }
    if (owned && w.exec("SELECT 1 FROM pg_roles WHERE rolname = " + w.quote(tpl)).empty())
      w.exec("CREATE ROLE " + q_tpl + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
    w.exec("CREATE DATABASE " + q_tpl + " TEMPLATE template0" + (owned ? " OWNER " + q_tpl : ""));
  }
  std::string url = UrlWithDatabase(admin_url, tpl);
  if (owned) {
    // It logs in only for this: a role that is SET to could RESET back.
    const std::string password = RandomPassword();
    pqxx::nontransaction(admin).exec("ALTER ROLE " + q_tpl + " LOGIN PASSWORD " +
                                     admin.quote(password));
    url = UrlWithLogin(url, tpl, password);
  }
  std::string failed;
  {
    auto c = ConnectAsLastcall(url);
    StatementWatch watch(*c, limits);
    failed = ExecuteScript(*c, content.schema_sql);
    if (!failed.empty()) {
      *failure = RunDatabases::Failure::kSchema;
      *error = "the schema failed: " + failed;
      StoppedBy(watch, "the schema", failure, error);
    } else if (!(failed = ExecuteScript(*c, content.setup_sql)).empty()) {
      *failure = RunDatabases::Failure::kSetup;
      *error = "database.setup failed: " + failed;
      StoppedBy(watch, "database.setup", failure, error);
    }
  }
  {
    pqxx::nontransaction w(admin);
    if (owned) w.exec("ALTER ROLE " + q_tpl + " NOLOGIN PASSWORD NULL");
    if (failed.empty()) {
      // No connections: CREATE DATABASE refuses a template someone is connected to.
      w.exec("ALTER DATABASE " + q_tpl + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
      return true;
    }
    w.exec("DROP DATABASE " + q_tpl + ForceClause(admin));
  }
  if (owned) DropRoles(admin, {tpl});
  return false;
}

// EnsureTemplate() under an advisory lock: two lastcalls (or two runs) may
// want the same new template at once; one makes it, the other waits and then
// finds it. (Advisory locks are per database: callers share the lock when
// their admin URLs name the same one.)
bool EnsureTemplateLocked(pqxx::connection& admin, const std::string& admin_url,
                          const std::string& tpl, uint64_t hash, const DatabaseContent& content,
                          const StatementLimits& limits, RunDatabases::Failure* failure,
                          std::string* error) {
  const std::string key = std::to_string(kTemplateLockClass) + ", " +
                          std::to_string(static_cast<int32_t>(hash & 0x7fffffff));
  {
    StatementWatch watch(admin, limits);
    try {
      pqxx::nontransaction(admin).exec("SELECT pg_advisory_lock(" + key + ")");
    } catch (const pqxx::sql_error&) {
      if (StoppedBy(watch, "the wait for another lastcall making the same schema", failure, error))
        return false;
      throw;
    }
  }
  bool ok = EnsureTemplate(admin, admin_url, tpl, content, limits, failure, error);
  pqxx::nontransaction(admin).exec("SELECT pg_advisory_unlock(" + key + ")");
  return ok;
}

// Makes database `dbname` a copy of template `tpl`, owned as the template is
// (its objects keep their owner; the database itself would be admin's).
// Returns that owner (TemplateOwner()).
std::string CloneTemplate(pqxx::connection& admin, const std::string& tpl,
                          const std::string& dbname) {
  std::string owner = TemplateOwner(admin, tpl);
  pqxx::nontransaction w(admin);
  // PG15 copies a template either through the WAL (WAL_LOG, the default)
  // or by copying its files between two checkpoints (FILE_COPY). Measured
  // with a two-table schema on PG15: with fsync=off (the embedded server)
  // FILE_COPY is as fast or a little faster; with fsync=on its checkpoints
  // make it slower (~210-275 ms against ~60-170 ms) and they flush the
  // whole cluster, which a shared external server would feel.
  std::string strategy;
  if (admin.server_version() >= 150000 &&
      w.exec("SELECT current_setting('fsync')")[0][0].as<std::string>() == "off") {
    strategy = " STRATEGY = FILE_COPY";
  }
  w.exec("CREATE DATABASE " + admin.quote_name(dbname) + " TEMPLATE " + admin.quote_name(tpl) +
         strategy + (owner.empty() ? "" : " OWNER " + admin.quote_name(owner)));
  return owner;
}

void DropDatabase(pqxx::connection& admin, const std::string& dbname) {
  pqxx::nontransaction w(admin);
  if (admin.server_version() < 130000) {
    w.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
           w.quote(dbname) + " AND pid <> pg_backend_pid()");
  }
  w.exec("DROP DATABASE IF EXISTS " + admin.quote_name(dbname) + ForceClause(admin));
}

// An open admin connection, made again if the last one broke (a server
// restart, a terminated session).
pqxx::connection& AdminConnection(std::unique_ptr<pqxx::connection>* admin,
                                  const std::string& admin_url) {
  if (!*admin || !(*admin)->is_open()) *admin = ConnectAsLastcall(admin_url);
  return **admin;
}

}  // namespace

struct RunDatabases::Impl {
  std::string admin_url;
  int spares = 0;

  std::mutex create_mutex;  // serializes Create(); guards `creator`
  std::unique_ptr<pqxx::connection> creator;

  std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  std::map<std::string, std::vector<std::string>> ready;  // template -> spare names
  std::map<std::string, int> making;                      // template -> spares being cloned
  std::set<std::string> broken;  // templates a spare could not be cloned from
  // A database to drop, then the roles made for it.
  struct Dropped {
    std::string dbname;
    std::vector<std::string> roles;
  };
  std::deque<Dropped> to_drop;
  int spares_made = 0;  // for unique spare names
  bool stopping = false;
  std::thread worker;  // last: started once the members above exist

  // The template that wants another spare, or "" (with `mutex` held).
  std::string TemplateWantingSpare() const {
    for (const auto& [tpl, names] : ready) {
      auto it = making.find(tpl);
      int pending = it == making.end() ? 0 : it->second;
      if (!broken.count(tpl) && static_cast<int>(names.size()) + pending < spares) return tpl;
    }
    return "";
  }

  // The worker: clones spares ahead of need and drops what runs gave back,
  // then at the end drops the spares too.
  void Work() {
    std::unique_ptr<pqxx::connection> admin;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock,
                [&] { return stopping || !to_drop.empty() || !TemplateWantingSpare().empty(); });
      std::string tpl = stopping ? "" : TemplateWantingSpare();
      if (!tpl.empty()) {
        std::string name =
            "lastcall_spare_" + std::to_string(getpid()) + "_" + std::to_string(++spares_made);
        ++making[tpl];
        lock.unlock();
        bool made = Try([&] { CloneTemplate(AdminConnection(&admin, admin_url), tpl, name); });
        lock.lock();
        --making[tpl];
        if (!made) {
          broken.insert(tpl);
        } else if (stopping) {
          to_drop.push_back({name, {}});
        } else {
          ready[tpl].push_back(name);
        }
        continue;
      }
      if (to_drop.empty() && stopping) {
        for (auto& [unused, names] : ready)
          for (std::string& name : names) to_drop.push_back({std::move(name), {}});
        ready.clear();
        if (to_drop.empty()) return;
      }
      Dropped dropped = std::move(to_drop.front());
      to_drop.pop_front();
      lock.unlock();
      // The roles even if the database would not go: those that own
      // objects in it then stay, the others do not.
      Try([&] { DropDatabase(AdminConnection(&admin, admin_url), dropped.dbname); });
      Try([&] { DropRoles(AdminConnection(&admin, admin_url), dropped.roles); });
      lock.lock();
    }
  }

  // Runs `step`; false if it threw (a database step of the worker, whose
  // failure only costs a run the time it would have saved).
  template <typename Step>
  static bool Try(Step step) {
    try {
      step();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

RunDatabases::RunDatabases(std::string admin_url, int spares) : impl_(new Impl) {
  impl_->admin_url = std::move(admin_url);
  impl_->spares = spares;
  impl_->worker = std::thread([this] { impl_->Work(); });
}

RunDatabases::~RunDatabases() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->worker.join();
}

bool RunDatabases::Create(const std::string& dbname, const DatabaseContent& content,
                          std::string* owner, Failure* failure, std::string* error,
                          const StatementLimits& limits) {
  // v2: the setup is applied to the template too; v3: as the template's own
  // role. The setup's length keeps one schema + setup pair from hashing like
  // another split elsewhere.
  const uint64_t hash = Fnv1a("lastcall template v3\n" + std::to_string(content.setup_sql.size()) +
                              "\n" + content.setup_sql + content.schema_sql);
  const std::string tpl = "lastcall_tpl_" + Hex16(hash);
  std::string spare;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->ready.find(tpl);
    if (it != impl_->ready.end() && !it->second.empty()) {
      spare = std::move(it->second.back());
      it->second.pop_back();
    }
  }
  try {
    std::lock_guard<std::mutex> lock(impl_->create_mutex);
    pqxx::connection& admin = AdminConnection(&impl_->creator, impl_->admin_url);
    if (!spare.empty()) {
      // A rename is a catalogue update: milliseconds, where a clone is a
      // checkpoint and a copy of the template's files.
      pqxx::nontransaction(admin).exec("ALTER DATABASE " + admin.quote_name(spare) + " RENAME TO " +
                                       admin.quote_name(dbname));
      *owner = TemplateOwner(admin, tpl);
    } else {
      if (!EnsureTemplateLocked(admin, impl_->admin_url, tpl, hash, content, limits, failure,
                                error))
        return false;
      *owner = CloneTemplate(admin, tpl, dbname);
    }
  } catch (const std::exception& e) {
    *failure = Failure::kServer;
    *error = "cannot create database " + dbname + ": " + PostgresMessage(e);
    return false;
  }
  {
    // The template exists: from now on the worker keeps spares of it.
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->ready[tpl];
  }
  impl_->wake.notify_all();
  return true;
}

void RunDatabases::Drop(const std::string& dbname, const std::vector<std::string>& roles) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->to_drop.push_back({dbname, roles});
  }
  impl_->wake.notify_all();
}

}  // namespace lastcall
