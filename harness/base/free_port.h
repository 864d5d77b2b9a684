// A free TCP port on the loopback interface, for a server lastcall starts
// (the target, the embedded PostgreSQL, the load balancer's slots).
#ifndef LASTCALL_BASE_FREE_PORT_H_
#define LASTCALL_BASE_FREE_PORT_H_

#include <string>

namespace lastcall {

// A port on 127.0.0.1 the kernel picked as free (by binding port 0). Someone
// may take it before the server binds it: servers that can fail that way are
// retried by their starters. Returns 0 and sets *error on failure.
int FreeLoopbackPort(std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_BASE_FREE_PORT_H_
