// Child processes. The correct server starts none; two bugs do.
#ifndef PAYMENT_SERVER_CHILDREN_H_
#define PAYMENT_SERVER_CHILDREN_H_

#include <string>
#include <vector>

#include "config.h"

// Starts `payment-server --reconciler` in the background (bug orphan-worker).
void start_reconciler();

// The reconciler child: totals the ledger every second on a database
// connection of its own. Runs until killed.
int run_reconciler(const Config& config);

// Replaces this process with a shell that runs the server as its child, as
// a start script does (bug wrapper-no-forward). `args` are the arguments
// for the server. Returns only if the shell cannot be started.
void exec_through_shell(const std::vector<std::string>& args);

#endif  // PAYMENT_SERVER_CHILDREN_H_
