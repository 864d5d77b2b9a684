// Signals by name, as scenario files, reports and the console write them:
// "TERM" rather than 15.
#ifndef LASTCALL_BASE_SIGNAL_NAME_H_
#define LASTCALL_BASE_SIGNAL_NAME_H_

#include <optional>
#include <string>
#include <vector>

namespace lastcall {

// Signal by name ("TERM", "SIGTERM", "int", "9"). Returns nullopt if unknown.
std::optional<int> ParseSignal(const std::string& name);

// "TERM" for 15; the number itself for a signal without a name here.
std::string SignalName(int signal);

// Every name ParseSignal() knows, for "did you mean".
std::vector<std::string> SignalNames();

}  // namespace lastcall

#endif  // LASTCALL_BASE_SIGNAL_NAME_H_
