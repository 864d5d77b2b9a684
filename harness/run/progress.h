// The live progress display: on a terminal, one line per scenario
// run in progress — its phase, time so far, attempts ok / failed / unknown,
// requests in flight, signals sent — redrawn four times a second below
// whatever the console has printed. Scenario runs publish their status
// through a RunStatus; the board only reads it.
#ifndef LASTCALL_PROGRESS_H_
#define LASTCALL_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lastcall {

// What a scenario run is doing, updated by the run's own thread.
struct RunStatus {
  std::atomic<const char*> phase{"waiting"};  // a string literal
  std::atomic<int64_t> ok{0}, failed{0}, unknown{0}, in_flight{0}, signals{0};
};

class ProgressBoard {
 public:
  // Draws on `out` when `live` (a terminal that wants it); otherwise Print()
  // only writes the text and nothing is drawn. `out` must outlive the board.
  ProgressBoard(std::FILE* out, bool live);
  // Stops redrawing and erases the lines.
  ~ProgressBoard();

  // A run named `name` starts; `status` must stay valid until Remove().
  void Add(const std::string& name, const RunStatus* status);
  void Remove(const RunStatus* status);
  // Writes `text` above the live lines.
  void Print(const std::string& text);

  // The live lines as they would be drawn now, one per run, each ending in a
  // newline.
  std::string Render() const;

 private:
  struct Entry {
    std::string name;
    const RunStatus* status;
    std::chrono::steady_clock::time_point start;
  };
  std::string Lines() const;  // requires mutex_
  void Redraw();              // requires mutex_
  void Erase();               // requires mutex_

  std::FILE* out_;
  const bool live_;
  mutable std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stop_ = false;
  std::vector<Entry> entries_;
  size_t drawn_ = 0;  // lines on the screen now
  std::thread redraw_;
};

// Whether stdout wants the live display: a terminal that can move the cursor.
bool ProgressWanted();

}  // namespace lastcall

#endif  // LASTCALL_PROGRESS_H_
