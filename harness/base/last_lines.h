// The end of a program's output or log, for an error message.
#ifndef LASTCALL_BASE_LAST_LINES_H_
#define LASTCALL_BASE_LAST_LINES_H_

#include <cstddef>
#include <string>

namespace lastcall {

// The last `n` lines of `text`, each on a line of its own indented by two
// spaces ("\n  line"), so that they read as a quote after a message; "" for
// an empty text.
std::string LastLines(const std::string& text, size_t n);

// LastLines() of the file `path`; "" when it cannot be read.
std::string LastLinesOfFile(const std::string& path, size_t n);

}  // namespace lastcall

#endif  // LASTCALL_BASE_LAST_LINES_H_
