#include "run/target.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "client/http_client.h"
#include "process/container.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

std::unique_ptr<TargetInstance> TargetInstance::Start(int id, const TargetLaunch& launch,
                                                      History* history, std::ostream* log,
                                                      std::string* error) {
  std::unique_ptr<TargetInstance> instance(new TargetInstance);
  instance->id_ = id;
  instance->launch_ = launch;
  instance->history_ = history;
  instance->log_ = log;
  if (launch.ready.kind == ReadyProbe::Kind::kLog)
    instance->ready_regex_.emplace(launch.ready.log_regex);
  SpawnOptions options;
  options.argv = launch.argv;
  if (launch.container) {
    options.argv = ContainerCommand(launch.argv, error);
    if (options.argv.empty()) return nullptr;
  }
  options.env = launch.env;
  options.cwd = launch.cwd;
  instance->process_ = Subprocess::Start(options, error);
  if (!instance->process_) return nullptr;
  instance->start_time_ = history->Record(
      "target_start",
      "pid " + std::to_string(instance->process_->pid()) + " port " + std::to_string(launch.port),
      id);
  return instance;
}

void TargetInstance::LogLine(const std::string& line) {
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "[%10.6f] [%d] ", static_cast<double>(history_->Now()) / 1e9,
                id_);
  *log_ << stamp << line << '\n';
  if (ready_regex_ && std::regex_search(line, *ready_regex_)) ready_line_seen_ = true;
  if (line_observer_) line_observer_(line);
  tail_.push_back(line);
  if (tail_.size() > 50) tail_.pop_front();
}

namespace {
// What one PumpOutput() call reads at most: a target that writes without a
// pause must not keep its caller from its deadlines and its interrupt.
constexpr size_t kPumpBudget = size_t{1} << 20;
// The longest output line kept; the rest of a longer one is counted, not
// kept, so that one endless line cannot take all memory.
constexpr size_t kMaxLineBytes = size_t{64} << 10;
}  // namespace

void TargetInstance::TakeOutput(const char* data, size_t size) {
  const char* const end = data + size;
  while (data < end) {
    // Only the new bytes are searched: a long line costs its length once.
    const char* newline = static_cast<const char*>(std::memchr(data, '\n', end - data));
    const char* line_end = newline ? newline : end;
    const size_t piece = static_cast<size_t>(line_end - data);
    const size_t kept = std::min(piece, kMaxLineBytes - partial_line_.size());
    partial_line_.append(data, kept);
    line_bytes_dropped_ += piece - kept;
    if (!newline) return;
    EndLine();
    data = newline + 1;
  }
}

void TargetInstance::EndLine() {
  if (line_bytes_dropped_ > 0)
    partial_line_ +=
        " [line truncated: " + std::to_string(line_bytes_dropped_) + " more bytes not kept]";
  LogLine(partial_line_);
  partial_line_.clear();
  line_bytes_dropped_ = 0;
}

bool TargetInstance::PumpOutput() {
  int fd = process_->output_fd();
  if (fd < 0 || !output_open_) return false;
  char buffer[65536];
  for (size_t taken = 0; taken < kPumpBudget;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: nothing more for now
    if (n == 0) {
      if (!partial_line_.empty() || line_bytes_dropped_ > 0) EndLine();
      output_open_ = false;
      log_->flush();
      return false;
    }
    TakeOutput(buffer, static_cast<size_t>(n));
    taken += static_cast<size_t>(n);
  }
  log_->flush();  // so that people (and tests) can follow the log live
  return true;
}

pid_t TargetInstance::MainPid() {
  if (!launch_.container) return process_->pid();
  if (container_init_ == 0 && !process_->exited())
    container_init_ = ContainerInitPid(process_->pid());
  return container_init_;
}

bool TargetInstance::TryReap() {
  if (exit_time_ >= 0) return true;
  if (!process_->TryReap()) return false;
  exit_time_ = history_->Since(process_->exit_time());
  history_->RecordAt(exit_time_, "target_exit", process_->exit_status()->ToString(), id_);
  return true;
}

bool TargetInstance::Probe() {
  const auto probe_timeout = std::chrono::milliseconds(200);
  switch (launch_.ready.kind) {
    case ReadyProbe::Kind::kHttp:
      return HttpGetOk(launch_.port, launch_.ready.http_path, probe_timeout);
    case ReadyProbe::Kind::kTcp:
      return TcpConnects(launch_.port, probe_timeout);
    case ReadyProbe::Kind::kLog:
      return ready_line_seen_;
  }
  return false;
}

TargetInstance::Readiness TargetInstance::WaitReady(Interrupt* interrupt) {
  Clock::time_point deadline = Clock::now() + launch_.ready.timeout;
  // Probe often at first (a fast target is ready in milliseconds), then
  // back off so that a slow one is not hammered.
  auto interval = std::chrono::milliseconds(1);
  for (;;) {
    PumpOutput();
    if (Probe()) {
      ready_time_ = history_->Record("target_ready", "", id_);
      return Readiness::kReady;
    }
    if (TryReap()) {
      PumpOutput();
      return Readiness::kExited;
    }
    if (Clock::now() >= deadline) return Readiness::kTimedOut;
    pollfd fds[3] = {
        {interrupt->fd(), POLLIN, 0}, {process_->exit_fd(), POLLIN, 0}, {output_fd(), POLLIN, 0}};
    poll(fds, 3, static_cast<int>(interval.count()));
    if (interrupt->Check() > 0) return Readiness::kInterrupted;
    interval = std::min(interval * 2, std::chrono::milliseconds(50));
  }
}

std::string TargetInstance::Tail(size_t n) const {
  std::string out;
  size_t first = tail_.size() > n ? tail_.size() - n : 0;
  for (size_t i = first; i < tail_.size(); ++i) out += "  | " + tail_[i] + "\n";
  return out;
}

}  // namespace lastcall
