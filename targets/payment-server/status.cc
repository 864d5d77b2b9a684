#include "status.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

StatusFile::StatusFile(const std::string& dir)
    : path_(dir + "/payment-server-status-XXXXXX"), fd_(::mkostemp(path_.data(), O_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "create " + path_);
}

void StatusFile::write(const std::string& text) {
  // Rewritten in place, so the file never vanishes while the process lives.
  ssize_t written = ::pwrite(fd_, text.data(), text.size(), 0);
  if (written >= 0) {
    int ignored = ::ftruncate(fd_, written);
    (void)ignored;
  }
}

void StatusFile::remove() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(path_.c_str());
  fd_ = -1;
}

StatusReporter::StatusReporter(StatusFile* file, std::function<std::string()> describe,
                               std::chrono::milliseconds period)
    : file_(file), describe_(std::move(describe)), period_(period), thread_([this] { run(); }) {}

void StatusReporter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StatusReporter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    file_->write(describe_());
    if (stopping_) return;
    stop_requested_.wait_for(lock, period_, [&] { return stopping_; });
  }
}
