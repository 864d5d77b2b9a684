// A run's folders: its report folder (reports_dir/report_name, which stays)
// and its private work folder (the session's work folder/run id, where each
// instance's TMPDIR and an embedded Redis live), removed with the workspace.
#ifndef LASTCALL_WORKSPACE_H_
#define LASTCALL_WORKSPACE_H_

#include <string>

#include "run/run_record.h"

namespace lastcall {

class RunWorkspace {
 public:
  RunWorkspace() = default;
  RunWorkspace(const RunWorkspace&) = delete;
  RunWorkspace& operator=(const RunWorkspace&) = delete;
  // Removes the work folder, whatever is left in it.
  ~RunWorkspace();

  // Makes the report folder `report_name` under `reports_dir` and the work
  // folder `run_id` under `work_dir`. Returns false and sets *failure when
  // either cannot be made: the report folder's fault is the user's (bad
  // input) unless it is a symbolic link.
  bool Make(const std::string& reports_dir, const std::string& report_name,
            const std::string& work_dir, const std::string& run_id, RunFailure* failure);

  // "" until made.
  const std::string& report_dir() const { return report_dir_; }
  const std::string& run_dir() const { return run_dir_; }

 private:
  std::string report_dir_, run_dir_;
};

}  // namespace lastcall

#endif  // LASTCALL_WORKSPACE_H_
