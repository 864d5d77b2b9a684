#include "base/last_lines.h"

#include <sstream>

#include "base/file.h"

namespace lastcall {

std::string LastLines(const std::string& text, size_t n) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  for (size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == n) break;
  }
  std::string out;
  std::istringstream in(text.substr(start, end - start));
  for (std::string line; std::getline(in, line);) out += "\n  " + line;
  return out;
}

std::string LastLinesOfFile(const std::string& path, size_t n) {
  return LastLines(ReadFileOrEmpty(path), n);
}

}  // namespace lastcall
