#include "run/workspace.h"

#include <filesystem>

#include "report/report.h"

namespace lastcall {

namespace fs = std::filesystem;

RunWorkspace::~RunWorkspace() {
  std::error_code ignored;
  if (!run_dir_.empty()) fs::remove_all(run_dir_, ignored);
}

bool RunWorkspace::Make(const std::string& reports_dir, const std::string& report_name,
                        const std::string& work_dir, const std::string& run_id,
                        RunFailure* failure) {
  std::string folder_error;
  switch (MakeRunFolder(reports_dir, report_name, &folder_error)) {
    case RunFolder::kReady:
      break;
    case RunFolder::kCannotMake:
      *failure = {Verdict::kBadInput, folder_error};
      return false;
    case RunFolder::kSymbolicLink:
      *failure = {Verdict::kInfrastructure, folder_error};
      return false;
  }
  report_dir_ = reports_dir + "/" + report_name;
  std::error_code ec;
  run_dir_ = work_dir + "/" + run_id;
  fs::create_directories(run_dir_, ec);
  if (ec) {
    *failure = {Verdict::kInfrastructure, "cannot create " + run_dir_ + ": " + ec.message()};
    return false;
  }
  return true;
}

}  // namespace lastcall
