// Container mode (`target.container: true`): the target runs as PID 1 of a
// new PID namespace, as Docker and Kubernetes run a container's entrypoint.
// The kernel then gives PID 1 no default action for signals it does not
// handle: an unhandled SIGTERM is ignored, and the sender waits out its
// grace period before SIGKILL — the `npm start` / shell-form CMD failure.
//
// lastcall itself plays the container runtime's part: the target command is
// started as `lastcall <kContainerFlag> COMMAND...`, a small parent that
// makes the namespace, forks its PID 1, waits, and exits as it did (the
// same code, or death by the same signal). The parent ignores the signals
// the harness sends to the target's process group, as a runtime's shim does.
#ifndef LASTCALL_CONTAINER_H_
#define LASTCALL_CONTAINER_H_

#include <string>
#include <vector>

#include <sys/types.h>

namespace lastcall {

// The hidden first argument that makes `lastcall` the container parent.
constexpr char kContainerFlag[] = "--internal-container-parent";

// The argv that runs `argv` as PID 1 of a new PID namespace through this
// executable (found through /proc/self/exe). Returns an empty vector and sets
// *error if this executable's path cannot be read.
std::vector<std::string> ContainerCommand(const std::vector<std::string>& argv, std::string* error);

// The container parent's main: `argv` is the target command. Makes a new PID
// namespace (in a new user namespace when not root, mapping the user to
// root inside), runs the command as its PID 1, and exits as it did: the same
// code, or death by the same signal (126 when the namespace cannot be made).
// Never returns.
[[noreturn]] void RunContainerParent(const std::vector<std::string>& argv);

// The host pid of the namespace's PID 1, the only child of container parent
// `parent`; 0 while it does not exist yet (or any more).
pid_t ContainerInitPid(pid_t parent);

}  // namespace lastcall

#endif  // LASTCALL_CONTAINER_H_
