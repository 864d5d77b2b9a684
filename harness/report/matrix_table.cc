#include "report/matrix_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "check/catalogue.h"
#include "scenario/matrix.h"

namespace lastcall {

namespace {

// "1.25 s" for nanoseconds between two moments; "-" when either is unknown.
std::string SecondsBetween(int64_t from, int64_t to) {
  if (from < 0 || to < 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(to - from) / 1e9);
  return text;
}

const InstanceRecord* Instance(const ScenarioResult& r, int id) {
  for (const InstanceRecord& i : r.instances)
    if (i.id == id) return &i;
  return nullptr;
}

// The first fault delivered whose signal `wanted` accepts, or nullptr.
template <typename Predicate>
const FaultRecord* FirstDelivered(const ScenarioResult& r, Predicate wanted) {
  for (size_t i = 0; i < r.faults.size() && i < r.fault_signals.size(); ++i)
    if (r.faults[i].delivery_time >= 0 && r.fault_signals[i] != 0 && wanted(r.fault_signals[i]))
      return &r.faults[i];
  return nullptr;
}

std::string DrainTime(const ScenarioResult& r) {
  const FaultRecord* fault = FirstDelivered(r, IsGraceful);
  const InstanceRecord* hit = fault ? Instance(r, fault->instance) : nullptr;
  return hit ? SecondsBetween(fault->delivery_time, hit->exit_time) : "-";
}

std::string DeployTime(const ScenarioResult& r) {
  const FaultRecord* fault = FirstDelivered(r, [](int) { return true; });
  if (!fault) return "-";
  for (const InstanceRecord& next : r.instances)
    if (next.id > fault->instance && next.ready_time >= 0)
      return SecondsBetween(fault->delivery_time, next.ready_time);
  const InstanceRecord* hit = Instance(r, fault->instance);
  return hit ? SecondsBetween(fault->delivery_time, hit->exit_time) : "-";
}

const CheckResult* Check(const ScenarioResult& r, const std::string& name) {
  for (const CheckResult& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

// refused_while_draining's summary starts with its figure.
std::string Refused(const ScenarioResult& r) {
  const CheckResult* c = Check(r, "refused_while_draining");
  if (!c || c->status != CheckStatus::kInfo) return "-";
  return std::to_string(std::strtoll(c->summary.c_str(), nullptr, 10));
}

std::string Cut(const ScenarioResult& r) {
  const CheckResult* c = Check(r, "drained");
  if (!c || c->status == CheckStatus::kSkipped) return "-";
  return std::to_string(c->status == CheckStatus::kFail ? c->OffendingCount() : 0);
}

std::string Escalations(const ScenarioResult& r) {
  return std::to_string(std::count_if(r.faults.begin(), r.faults.end(),
                                      [](const FaultRecord& f) { return f.escalated; }));
}

// The checks that get a column, in report order: those that some run did
// not skip (a column of "skipped" only says nothing, and the table is wide).
std::vector<std::string> CheckColumns(const std::vector<const ScenarioResult*>& runs) {
  std::vector<std::string> columns;
  for (const std::string& name : KnownChecks())
    for (const ScenarioResult* r : runs) {
      const CheckResult* c = Check(*r, name);
      if (name != "refused_while_draining" && c && c->status != CheckStatus::kSkipped) {
        columns.push_back(name);
        break;
      }
    }
  return columns;
}

MatrixTable TableOf(const std::vector<const ScenarioResult*>& runs) {
  const ScenarioResult& first = *runs.front();
  const std::string label = "/" + CombinationLabel(first.matrix);
  MatrixTable table{first.name.substr(0, first.name.size() - label.size()), {}};
  const std::vector<std::string> checks = CheckColumns(runs);
  std::vector<std::string> head;
  for (const auto& entry : first.matrix) head.push_back(entry.first);
  head.push_back("verdict");
  head.insert(head.end(), checks.begin(), checks.end());
  for (const char* figure : {"drain", "refused", "cut", "escalated", "deploy"})
    head.push_back(figure);
  table.cells.push_back(head);
  for (const ScenarioResult* r : runs) {
    std::vector<std::string> row;
    for (const auto& entry : r->matrix) row.push_back(entry.second);
    row.push_back(VerdictName(r->verdict));
    for (const std::string& name : checks) {
      const CheckResult* c = Check(*r, name);
      row.push_back(c ? CheckStatusName(c->status) : "-");
    }
    for (const std::string& figure :
         {DrainTime(*r), Refused(*r), Cut(*r), Escalations(*r), DeployTime(*r)})
      row.push_back(figure);
    table.cells.push_back(row);
  }
  return table;
}

}  // namespace

std::vector<MatrixTable> MatrixTables(const std::vector<ScenarioResult>& results) {
  std::vector<std::string> files;
  for (const ScenarioResult& r : results)
    if (!r.matrix.empty() && std::find(files.begin(), files.end(), r.file) == files.end())
      files.push_back(r.file);
  std::vector<MatrixTable> tables;
  for (const std::string& file : files) {
    std::vector<const ScenarioResult*> runs;
    for (const ScenarioResult& r : results)
      if (!r.matrix.empty() && r.file == file) runs.push_back(&r);
    tables.push_back(TableOf(runs));
  }
  return tables;
}

std::string MatrixTableText(const MatrixTable& table) {
  std::vector<size_t> widths;
  for (const auto& row : table.cells)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out = "matrix " + table.name + ":\n";
  for (const auto& row : table.cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += "  " + row[i] + std::string(widths[i] - row[i].size(), ' ');
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace lastcall
