// Copying a PostgreSQL cluster's folder: the cached cluster into a server's
// private data folder.
#ifndef LASTCALL_COPY_TREE_H_
#define LASTCALL_COPY_TREE_H_

#include <string>

#include "process/service_user.h"

namespace lastcall {

// Copies the tree at `from` to `to` (which must not exist), keeping modes,
// owned by `user` when root.
bool CopyTree(const std::string& from, const std::string& to, const ServiceUser& user,
              std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_COPY_TREE_H_
