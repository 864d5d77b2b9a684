#include "base/free_port.h"

#include <unistd.h>

#include <cerrno>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/errno_text.h"
#include "base/unique_fd.h"

namespace lastcall {

int FreeLoopbackPort(std::string* error) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    *error = "cannot find a free port on 127.0.0.1: socket: " + ErrnoText(errno);
    return 0;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    *error = "cannot find a free port on 127.0.0.1: " + ErrnoText(errno);
    return 0;
  }
  return ntohs(address.sin_port);
}

}  // namespace lastcall
