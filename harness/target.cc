#include "target.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>

#include "container.h"
#include "http_client.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

std::unique_ptr<TargetInstance> TargetInstance::Start(
    int id, const TargetLaunch& launch, History* history, std::ostream* log,
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
      "pid " + std::to_string(instance->process_->pid()) + " port " +
          std::to_string(launch.port),
      id);
  return instance;
}

void TargetInstance::LogLine(const std::string& line) {
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "[%10.6f] [%d] ",
                static_cast<double>(history_->Now()) / 1e9, id_);
  *log_ << stamp << line << '\n';
  if (ready_regex_ && std::regex_search(line, *ready_regex_))
    ready_line_seen_ = true;
  if (line_observer_) line_observer_(line);
  tail_.push_back(line);
  if (tail_.size() > 50) tail_.pop_front();
}

bool TargetInstance::PumpOutput() {
  int fd = process_->output_fd();
  if (fd < 0 || !output_open_) return false;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {  // EAGAIN: nothing more for now
      log_->flush();  // so that people (and tests) can follow the log live
      return true;
    }
    if (n == 0) {
      if (!partial_line_.empty()) LogLine(partial_line_);
      partial_line_.clear();
      output_open_ = false;
      log_->flush();
      return false;
    }
    partial_line_.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_line_.find('\n', start)) != std::string::npos;
         start = nl + 1)
      LogLine(partial_line_.substr(start, nl - start));
    partial_line_.erase(0, start);
  }
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
  history_->RecordAt(exit_time_, "target_exit",
                     process_->exit_status()->ToString(), id_);
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

TargetInstance::Readiness TargetInstance::WaitReady(int interrupt_fd) {
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
    pollfd fds[3] = {{interrupt_fd, POLLIN, 0},
                     {process_->exit_fd(), POLLIN, 0},
                     {output_fd(), POLLIN, 0}};
    int n = poll(fds, 3, static_cast<int>(interval.count()));
    if (n > 0 && (fds[0].revents & POLLIN)) return Readiness::kInterrupted;
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
