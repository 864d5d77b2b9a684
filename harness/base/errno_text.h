// errno as words, for error messages, without strerror's shared buffer.
#ifndef LASTCALL_BASE_ERRNO_TEXT_H_
#define LASTCALL_BASE_ERRNO_TEXT_H_

#include <string>
#include <system_error>

namespace lastcall {

// "No such file or directory" for ENOENT.
inline std::string ErrnoText(int err) { return std::generic_category().message(err); }

}  // namespace lastcall

#endif  // LASTCALL_BASE_ERRNO_TEXT_H_
