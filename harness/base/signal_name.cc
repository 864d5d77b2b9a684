#include "base/signal_name.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>

namespace lastcall {

namespace {

struct SignalEntry {
  const char* name;
  int number;
};

// The signals a scenario may name.
const SignalEntry kSignals[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT},   {"KILL", SIGKILL}, {"QUIT", SIGQUIT},
    {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"WINCH", SIGWINCH},
};

bool IsDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

std::optional<int> ParseSignal(const std::string& name) {
  if (IsDigits(name)) {
    if (name.size() > 3) return std::nullopt;
    int number = std::atoi(name.c_str());
    if (number < 1 || number > SIGRTMAX) return std::nullopt;
    return number;
  }
  std::string upper;
  for (char c : name) upper += static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) == 0) upper.erase(0, 3);
  for (const SignalEntry& entry : kSignals) {
    if (upper == entry.name) return entry.number;
  }
  return std::nullopt;
}

std::string SignalName(int signal) {
  for (const SignalEntry& entry : kSignals) {
    if (signal == entry.number) return entry.name;
  }
  return std::to_string(signal);
}

std::vector<std::string> SignalNames() {
  std::vector<std::string> names;
  for (const SignalEntry& entry : kSignals) names.push_back(entry.name);
  return names;
}

}  // namespace lastcall
