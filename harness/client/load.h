// The load: the clients and the generator (Jepsen's terms). Each client is a
// thread with one connection, running a closed loop: take the next request
// number, build the request from the template, send it, retry it with the
// same idempotency key on the outcomes the scenario names, record every
// attempt in the history. Request values derive from the seed and the request
// number only, so a run is reproducible whichever client takes which request.
#ifndef LASTCALL_LOAD_H_
#define LASTCALL_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "history/history.h"
#include "scenario/scenario.h"
#include "scenario/substitution.h"

namespace lastcall {

// Told about progress by the client threads, on the hot path: keep it cheap.
class LoadObserver {
 public:
  virtual ~LoadObserver() = default;
  // After every change of the counters.
  virtual void OnProgress(int64_t in_flight, int64_t completed) = 0;
  // Once, when the last client has stopped.
  virtual void OnLoadFinished() = 0;
  // An attempt that ended at `time` showed the target turning work away: a
  // refused connect(), or a response that said `Connection: close`.
  virtual void OnTurnedAway(int64_t /*time*/) {}
  // Asked when the load reaches its own end (duration or requests): true
  // keeps it going (never past load.max_duration), so that a fault waiting
  // for a count fires whatever the machine's speed, and a drain is judged
  // under load.
  virtual bool HoldsLoad() { return false; }
};

// The values a request's template is rendered with.
struct RequestValues {
  std::string key, from, to, amount, seq;
};
RequestValues ValuesFor(uint64_t seed, int64_t seq, const LoadSpec& spec);

class Load {
 public:
  // Compiles the request template with the run's constants. Returns nullptr
  // and sets *error if a template does not compile.
  static std::unique_ptr<Load> Create(const LoadSpec& spec, const TemplateVariables& run_variables,
                                      int port, uint64_t seed, History* history,
                                      LoadObserver* observer, std::string* error);
  ~Load();  // stops and joins the clients

  // Starts the clients; records "load_start". Returns the start time. A
  // client thread that cannot be started abandons the load, and
  // own_failure() says why.
  std::chrono::steady_clock::time_point Start();
  // What lastcall itself lacked to run the load (a thread, a descriptor, a
  // local port), which then was abandoned: a run that cannot be judged.
  // Empty if nothing.
  std::string own_failure();
  // Stops taking new requests; keys in progress finish their attempts.
  void Stop();
  // The target is gone for good: stop at once, no more retries.
  void Abandon();
  // While held, a load bound by `duration` goes on past its end: a rolling
  // restart in progress is judged under load until it is over.
  void Hold(bool held) { held_ = held; }
  void Join();

  bool finished() const { return running_clients_.load() == 0; }
  // Whether the load ended at load.max_duration while still held.
  bool reached_max_duration() const { return reached_max_duration_.load(); }
  // Requests written and not yet answered (as the clients see them).
  int64_t in_flight() const { return in_flight_.load(); }
  // Of the requests written and not yet answered, how many `received`
  // says the target has: it is given the client port of each request's
  // connection and the bytes written on it up to the request's end.
  // Thread-safe; for the `in_flight` trigger, from the socket watch.
  int64_t CountOutstanding(
      const std::function<bool(uint16_t port, uint64_t request_end)>& received) const;
  // Appends the client port of every connection the clients hold open (the
  // socket watch looks at those). Thread-safe.
  void ConnectionPorts(std::vector<uint16_t>* ports) const;
  int64_t completed() const { return completed_.load(); }
  // Attempts ended so far with `outcome`.
  int64_t attempts_ended(Outcome outcome) const {
    return outcomes_[static_cast<int>(outcome)].load();
  }

 private:
  Load(const LoadSpec& spec, int port, uint64_t seed, History* history, LoadObserver* observer);
  void ClientLoop(int client);
  // The next request number, or -1 when the load is over.
  int64_t NextSeq();
  void BuildRequest(int64_t seq, std::string* request) const;
  bool Retryable(const Attempt& attempt) const;
  // Sleeps the backoff before attempt `next_attempt`; false if abandoned.
  bool Backoff(int next_attempt);
  // Records the first of lastcall's own failures and abandons the load.
  void NoteOwnFailure(const std::string& what);

  const LoadSpec& spec_;
  int port_;
  uint64_t seed_;
  History* history_;
  LoadObserver* observer_;
  std::optional<Template> path_, body_;
  std::vector<std::pair<std::string, Template>> headers_;
  std::string fixed_headers_;  // Host, Connection

  std::chrono::steady_clock::time_point end_time_, max_end_time_;
  // Per client, the request it has written and awaits an answer to: its
  // connection's client port << 48 | the bytes written up to its end; 0
  // when none.
  std::unique_ptr<std::atomic<uint64_t>[]> outstanding_;
  // Per client, the client port of its open connection; 0 when none.
  std::unique_ptr<std::atomic<uint16_t>[]> connection_ports_;
  std::atomic<bool> reached_max_duration_{false};
  std::atomic<int64_t> next_seq_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> outcomes_[3] = {};  // by Outcome
  std::atomic<int64_t> connection_ids_{0};
  std::atomic<int> running_clients_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> held_{false};
  Mutex mutex_;  // guards own_failure_, and the wait on abandon_cv_
  std::string own_failure_ GUARDED_BY(mutex_);
  CondVar abandon_cv_{&mutex_};
  std::vector<std::thread> clients_;
};

}  // namespace lastcall

#endif  // LASTCALL_LOAD_H_
