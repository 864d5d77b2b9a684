// Reading whole files: scenario files, schemas, logs, /proc entries. One
// place for it, so that every caller reports a failure the same way.
#ifndef LASTCALL_BASE_FILE_H_
#define LASTCALL_BASE_FILE_H_

#include <cstddef>
#include <string>

namespace lastcall {

// Reads all of `path` into *text. Returns false and sets *error to
// "PATH: cannot read: REASON" when it cannot (missing, unreadable, a folder).
bool ReadFile(const std::string& path, std::string* text, std::string* error);

// The bytes of `path` from byte `offset` to its end; "" when it cannot be
// read, for callers to whom a missing file is an answer (logs, /proc).
std::string ReadFileOrEmpty(const std::string& path, size_t offset = 0);

}  // namespace lastcall

#endif  // LASTCALL_BASE_FILE_H_
