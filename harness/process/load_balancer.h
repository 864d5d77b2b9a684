// The load balancer: a real HAProxy (Debian's 2.6) in front of the target's
// instances, started with a generated configuration in the run's work
// folder. Clients talk only to its frontend; it health-checks each instance
// on its own port, and the harness takes instances out of rotation and
// reads their state through HAProxy's runtime API (a unix socket, mode 600).
#ifndef LASTCALL_LOAD_BALANCER_H_
#define LASTCALL_LOAD_BALANCER_H_

#include <memory>
#include <string>
#include <vector>

#include "process/subprocess.h"
#include "scenario/scenario.h"

namespace lastcall {

// The backend server of instance slot `slot` (0-based): "instance1", ...
std::string BackendServerName(int slot);

// haproxy.cfg: a frontend on 127.0.0.1:`frontend_port`, one server per entry
// of `server_ports` (on 127.0.0.1, health-checked as `spec` says), and the
// runtime API on `socket_path`.
std::string HaproxyConfig(const LoadBalancerSpec& spec, int frontend_port,
                          const std::vector<int>& server_ports, const std::string& socket_path);

// The status column of `server` in the runtime API's `show stat` CSV
// ("UP", "DOWN", "MAINT", "UP 1/3" while going down...). Returns "" when
// the server is not listed.
std::string ServerStatus(const std::string& show_stat_csv, const std::string& server);

class LoadBalancer {
 public:
  // Writes the configuration into `work_dir` (which must exist) and starts
  // haproxy in the foreground (-db), its output in work_dir/haproxy.log.
  // Returns once its runtime API answers, or nullptr and *error (with the
  // end of its log) if it exits first or does not answer within 5 s.
  static std::unique_ptr<LoadBalancer> Start(const LoadBalancerSpec& spec, int frontend_port,
                                             const std::vector<int>& server_ports,
                                             const std::string& work_dir, std::string* error);
  // Stops haproxy (SIGTERM, then SIGKILL after 2 s) and waits for it.
  ~LoadBalancer();

  // Runtime API: `set server be/<slot's server> state <state>` with state
  // "maint" (out of rotation, requests in progress finish), "drain" or
  // "ready". Returns false and sets *error if haproxy refused or is gone.
  bool SetState(int slot, const std::string& state, std::string* error);
  // The slot's server status (see ServerStatus()), "" and *error on failure.
  std::string Status(int slot, std::string* error);
  // True when the slot's server is fully UP (not going down, not in
  // maintenance).
  bool Up(int slot);

  // The runtime API's answer to `command` (one command per connection).
  // Returns false and sets *error when the socket cannot be used.
  bool Command(const std::string& command, std::string* answer, std::string* error);

  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return process_->pid(); }

 private:
  LoadBalancer() = default;
  std::string socket_path_, log_path_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace lastcall

#endif  // LASTCALL_LOAD_BALANCER_H_
