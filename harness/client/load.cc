#include "client/load.h"

#include <algorithm>
#include <system_error>

#include "base/splitmix.h"
#include "client/http_client.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

namespace {
// outstanding_'s low bits: 256 TB written on one connection.
constexpr uint64_t kOffsetMask = (uint64_t{1} << 48) - 1;
}  // namespace

RequestValues ValuesFor(uint64_t seed, int64_t seq, const LoadSpec& spec) {
  uint64_t r = SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(seq)));
  uint64_t count = static_cast<uint64_t>(spec.account_count);
  uint64_t from = r % count;
  // A distinct second account: an offset of 1..count-1 from the first.
  uint64_t to = (from + 1 + SplitMix64(r) % (count - 1)) % count;
  uint64_t span = static_cast<uint64_t>(spec.amount_max - spec.amount_min) + 1;
  int64_t amount = spec.amount_min + static_cast<int64_t>(SplitMix64(r + 1) % span);
  return RequestValues{History::KeyFor(seed, seq), std::to_string(from + 1), std::to_string(to + 1),
                       std::to_string(amount), std::to_string(seq)};
}

Load::Load(const LoadSpec& spec, int port, uint64_t seed, History* history, LoadObserver* observer)
    : spec_(spec), port_(port), seed_(seed), history_(history), observer_(observer) {}

std::unique_ptr<Load> Load::Create(const LoadSpec& spec, const TemplateVariables& run_variables,
                                   int port, uint64_t seed, History* history,
                                   LoadObserver* observer, std::string* error) {
  std::unique_ptr<Load> load(new Load(spec, port, seed, history, observer));
  TemplateVariables variables = run_variables;
  variables.slots = RequestVariableNames();
  load->path_ = Template::Compile(spec.request.path, variables, error);
  if (!load->path_) return nullptr;
  load->body_ = Template::Compile(spec.request.body, variables, error);
  if (!load->body_) return nullptr;
  for (const auto& [name, value] : spec.request.headers) {
    std::optional<Template> t = Template::Compile(value, variables, error);
    if (!t) return nullptr;
    load->headers_.emplace_back(name, std::move(*t));
  }
  load->fixed_headers_ = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!spec.keep_alive) load->fixed_headers_ += "Connection: close\r\n";
  return load;
}

Load::~Load() {
  Abandon();
  Join();
}

Clock::time_point Load::Start() {
  Clock::time_point start = Clock::now();
  history_->RecordAt(history_->Since(start), "load_start",
                     std::to_string(spec_.clients) + " clients");
  end_time_ = spec_.duration.count() > 0 ? start + spec_.duration : Clock::time_point::max();
  max_end_time_ = start + MaxDuration(spec_);
  outstanding_.reset(new std::atomic<uint64_t>[static_cast<size_t>(spec_.clients)]());
  connection_ports_.reset(new std::atomic<uint16_t>[static_cast<size_t>(spec_.clients)]());
  running_clients_ = spec_.clients;
  for (int c = 0; c < spec_.clients; ++c) {
    try {
      clients_.emplace_back([this, c] { ClientLoop(c); });
    } catch (const std::system_error& e) {
      running_clients_ -= spec_.clients - c;  // those never started
      NoteOwnFailure("cannot start the thread of client " + std::to_string(c + 1) + " of " +
                     std::to_string(spec_.clients) + " (" + e.what() +
                     "): lastcall runs a thread per client; lower load.clients, or raise "
                     "the limit on processes (ulimit -u, a cgroup's pids.max)");
      break;
    }
  }
  return start;
}

void Load::NoteOwnFailure(const std::string& what) {
  {
    MutexLock lock(&mutex_);
    if (own_failure_.empty()) own_failure_ = what;
  }
  Abandon();
}

std::string Load::own_failure() {
  MutexLock lock(&mutex_);
  return own_failure_;
}

void Load::Stop() { stopped_ = true; }

void Load::Abandon() {
  {
    MutexLock lock(&mutex_);
    stopped_ = true;
    abandoned_ = true;
  }
  abandon_cv_.NotifyAll();
}

void Load::Join() {
  for (std::thread& t : clients_)
    if (t.joinable()) t.join();
  clients_.clear();
}

int64_t Load::NextSeq() {
  if (stopped_) return -1;
  const Clock::time_point now = Clock::now();
  if (now >= max_end_time_) {
    reached_max_duration_ = true;
    return -1;
  }
  // The observer is asked only once the load's own end has come.
  auto held = [&] { return held_ || observer_->HoldsLoad(); };
  if (now >= end_time_ && !held()) return -1;
  int64_t seq = next_seq_.fetch_add(1);
  if (spec_.requests > 0 && seq >= spec_.requests && !held()) return -1;
  return seq;
}

void Load::ConnectionPorts(std::vector<uint16_t>* ports) const {
  if (!connection_ports_) return;
  for (int c = 0; c < spec_.clients; ++c)
    if (uint16_t port = connection_ports_[c].load(std::memory_order_relaxed))
      ports->push_back(port);
}

int64_t Load::CountOutstanding(
    const std::function<bool(uint16_t port, uint64_t request_end)>& received) const {
  if (!outstanding_) return 0;
  int64_t count = 0;
  for (int c = 0; c < spec_.clients; ++c) {
    const uint64_t request = outstanding_[c].load(std::memory_order_acquire);
    if (request != 0 && received(static_cast<uint16_t>(request >> 48), request & kOffsetMask))
      ++count;
  }
  return count;
}

void Load::BuildRequest(int64_t seq, std::string* request) const {
  RequestValues v = ValuesFor(seed_, seq, spec_);
  const std::vector<std::string_view> values{v.key, v.from, v.to, v.amount, v.seq};
  std::string body;
  body_->Render(values, &body);
  request->clear();
  request->append(spec_.request.method).append(" ");
  path_->Render(values, request);
  request->append(" HTTP/1.1\r\n").append(fixed_headers_);
  for (const auto& [name, value] : headers_) {
    request->append(name).append(": ");
    value.Render(values, request);
    request->append("\r\n");
  }
  request->append("Content-Length: ")
      .append(std::to_string(body.size()))
      .append("\r\n\r\n")
      .append(body);
}

bool Load::Retryable(const Attempt& attempt) const {
  const RetryPolicy& retry = spec_.retry;
  if (attempt.status != 0) {
    return std::find(retry.on_status.begin(), retry.on_status.end(), attempt.status) !=
           retry.on_status.end();
  }
  switch (attempt.error) {
    case NetError::kRefused:
    case NetError::kConnect:
      return retry.on_refused;
    case NetError::kTimeout:
      return retry.on_timeout;
    case NetError::kNone:
      return false;
    default:
      return retry.on_reset;
  }
}

bool Load::Backoff(int next_attempt) {
  // Exponential: backoff, 2*backoff, 4*backoff... before attempts 2, 3, 4...
  Duration wait = spec_.retry.backoff * (int64_t{1} << std::min(next_attempt - 2, 20));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  MutexLock lock(&mutex_);
  while (!abandoned_) {
    if (!abandon_cv_.WaitUntil(deadline)) return !abandoned_;
  }
  return false;
}

void Load::ClientLoop(int client) {
  HttpConnection connection(port_, &connection_ids_, &connection_ports_[client]);
  std::vector<Attempt>& attempts = history_->attempts(client);
  std::string request;
  for (int64_t seq = NextSeq(); seq >= 0; seq = NextSeq()) {
    BuildRequest(seq, &request);
    for (int number = 1;; ++number) {
      Attempt attempt;
      attempt.seq = seq;
      attempt.attempt = number;
      attempt.client = client;
      bool counted = false;
      connection.RoundTrip(request, Clock::now() + spec_.request.timeout, *history_, &attempt, [&] {
        counted = true;
        outstanding_[client].store(
            uint64_t{attempt.local_port} << 48 | (attempt.request_end & kOffsetMask),
            std::memory_order_release);
        observer_->OnProgress(++in_flight_, completed_);
      });
      outstanding_[client].store(0, std::memory_order_release);
      if (!connection.own_failure().empty()) {
        // Not an attempt the target could answer: lastcall's own lack.
        NoteOwnFailure("a client could not connect: " + connection.own_failure() +
                       " (lastcall holds a connection per client: lower load.clients, or "
                       "raise the limit on open files, ulimit -n)");
        break;
      }
      int64_t in_flight = counted ? --in_flight_ : in_flight_.load();
      int64_t completed = attempt.status ? ++completed_ : completed_.load();
      observer_->OnProgress(in_flight, completed);
      if (attempt.error == NetError::kRefused || (attempt.status != 0 && !attempt.keep_alive))
        observer_->OnTurnedAway(attempt.done);
      ++outcomes_[static_cast<int>(attempt.outcome)];
      attempts.push_back(attempt);
      if (number >= spec_.retry.attempts || !Retryable(attempt) || abandoned_ ||
          !Backoff(number + 1))
        break;
    }
  }
  if (--running_clients_ == 0) observer_->OnLoadFinished();
}

}  // namespace lastcall
