// The status file and the background thread that keeps it current.
#ifndef PAYMENT_SERVER_STATUS_H_
#define PAYMENT_SERVER_STATUS_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

// A small text file in TMPDIR saying what this process is doing, for an
// operator or a monitoring sidecar to read. It describes a live process, so
// it is removed when the process shuts down.
class StatusFile {
 public:
  // Creates the file. Throws std::system_error if it cannot.
  explicit StatusFile(const std::string& dir);
  ~StatusFile() { remove(); }
  StatusFile(const StatusFile&) = delete;
  StatusFile& operator=(const StatusFile&) = delete;

  // Replaces the contents.
  void write(const std::string& text);
  // Deletes the file; idempotent.
  void remove();

 private:
  std::string path_;
  int fd_;
};

// Rewrites the status file every `period` on a thread of its own.
class StatusReporter {
 public:
  StatusReporter(StatusFile* file, std::function<std::string()> describe,
                 std::chrono::milliseconds period);
  ~StatusReporter() { stop(); }

  // Writes a last report and ends the thread; idempotent.
  void stop();

 private:
  void run();

  StatusFile* file_;
  std::function<std::string()> describe_;
  std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread thread_;  // Last: starts once the members above exist.
};

#endif  // PAYMENT_SERVER_STATUS_H_
