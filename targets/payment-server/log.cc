#include "log.h"

#include <unistd.h>

void log_line(const std::string& line) {
  std::string out = line + "\n";
  // A failed write to stderr has nowhere to be reported; ignore it.
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}
