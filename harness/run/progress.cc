#include "run/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace lastcall {

ProgressBoard::ProgressBoard(std::FILE* out, bool live) : out_(out), live_(live) {
  if (!live_) return;
  redraw_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (
        !stop_requested_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; }))
      Redraw();
  });
}

ProgressBoard::~ProgressBoard() {
  if (!live_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    Erase();
    std::fflush(out_);
  }
  stop_requested_.notify_all();
  redraw_.join();
}

void ProgressBoard::Add(const std::string& name, const RunStatus* status) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back({name, status, std::chrono::steady_clock::now()});
}

void ProgressBoard::Remove(const RunStatus* status) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.status == status; }),
                 entries_.end());
  if (live_) Redraw();
}

void ProgressBoard::Print(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (live_) Erase();
  std::fwrite(text.data(), 1, text.size(), out_);
  if (live_) Redraw();
  std::fflush(out_);
}

std::string ProgressBoard::Render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return Lines();
}

std::string ProgressBoard::Lines() const {
  std::string lines;
  auto now = std::chrono::steady_clock::now();
  for (const Entry& e : entries_) {
    const RunStatus& s = *e.status;
    // A long name is cut, so that a line fits a common terminal's width.
    std::string name = e.name.size() > 40 ? e.name.substr(0, 39) + "~" : e.name;
    char line[256];
    std::snprintf(line, sizeof line,
                  "  .. %-40s %-9s %6.1fs  ok %lld  failed %lld  unknown %lld  "
                  "in flight %lld  signals %lld\n",
                  name.c_str(), s.phase.load(),
                  std::chrono::duration<double>(now - e.start).count(),
                  static_cast<long long>(s.ok), static_cast<long long>(s.failed),
                  static_cast<long long>(s.unknown), static_cast<long long>(s.in_flight),
                  static_cast<long long>(s.signals));
    lines += line;
  }
  return lines;
}

void ProgressBoard::Erase() {
  // Up one line and clear it, for each line drawn.
  for (; drawn_ > 0; --drawn_) std::fputs("\x1b[1A\x1b[2K", out_);
}

void ProgressBoard::Redraw() {
  Erase();
  std::string lines = Lines();
  std::fputs(lines.c_str(), out_);
  drawn_ = static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n'));
  std::fflush(out_);
}

bool ProgressWanted() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace lastcall
