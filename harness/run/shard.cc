#include "run/shard.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "report/saved_report.h"

namespace lastcall {

using nlohmann::json;

namespace {

// shard.json's format; a merge refuses any other.
constexpr int kManifestFormat = 1;

// FNV-1a over the report names, in hex: shards of the same plan agree on it
// whichever machine computed it; a different suite (or --repeat) differs.
std::string PlanFingerprint(const std::vector<std::string>& plan) {
  uint64_t hash = 14695981039346656037ull;
  for (const std::string& name : plan)
    for (unsigned char c : name + '\n') hash = (hash ^ c) * 1099511628211ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// A folder's shard.json, read back.
struct Manifest {
  std::string dir;
  Shard shard;
  std::string plan;
  size_t runs = 0;  // in the whole plan
  std::vector<ShardRun> mine;
};

bool ReadManifest(const std::string& dir, Manifest* out, std::string* error) {
  const std::string path = dir + "/shard.json";
  std::ifstream in(path);
  if (!in) {
    *error = path + ": missing; is " + dir + " the reports folder of a lastcall run?";
    return false;
  }
  try {
    json j = json::parse(in);
    if (j.at("format").get<int>() != kManifestFormat)
      throw std::runtime_error("format " + j.at("format").dump() + " is not " +
                               std::to_string(kManifestFormat));
    out->dir = dir;
    out->shard = {j.at("shard").get<int>(), j.at("of").get<int>()};
    out->plan = j.at("plan").get<std::string>();
    out->runs = j.at("runs").get<size_t>();
    for (const json& run : j.at("mine"))
      out->mine.push_back({run.at("position").get<size_t>(), run.at("report").get<std::string>()});
  } catch (const std::exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
  return true;
}

// "shard 2/3 of the plan in a, b": a set of folders of one plan, each shard
// exactly once.
bool CheckComplete(const std::vector<const Manifest*>& plan, std::string* error) {
  const int count = plan.front()->shard.count;
  std::map<int, const Manifest*> by_index;
  for (const Manifest* m : plan) {
    if (m->shard.count != count) {
      *error = m->dir + " is shard " + std::to_string(m->shard.index) + "/" +
               std::to_string(m->shard.count) + " but " + plan.front()->dir + " is of " +
               std::to_string(count) + " shards of the same runs";
      return false;
    }
    auto [it, inserted] = by_index.emplace(m->shard.index, m);
    if (!inserted) {
      *error = it->second->dir + " and " + m->dir + " are both shard " +
               std::to_string(m->shard.index) + "/" + std::to_string(count);
      return false;
    }
  }
  for (int k = 1; k <= count; ++k)
    if (!by_index.count(k)) {
      *error = "shard " + std::to_string(k) + "/" + std::to_string(count) + " of the runs in " +
               plan.front()->dir + " is missing: give its reports folder too";
      return false;
    }
  return true;
}

// Appends the runs of one plan's folders to *out in plan order.
bool ReadPlanRuns(const std::vector<const Manifest*>& plan, MergedRuns* out, std::string* error) {
  std::map<size_t, std::string> result_json;  // position -> path
  for (const Manifest* m : plan)
    for (const ShardRun& run : m->mine)
      result_json[run.position] =
          std::filesystem::absolute(m->dir + "/" + run.report_name + "/result.json").string();
  for (const auto& [position, path] : result_json) {
    SavedReport saved;
    if (!LoadSavedResult(path, &saved, error)) {
      *error += " (was that shard interrupted?)";
      return false;
    }
    out->results.push_back(std::move(saved.result));
    out->expectations.push_back(saved.expect);
  }
  return true;
}

}  // namespace

bool ParseShard(const std::string& text, Shard* out, std::string* error) {
  std::smatch match;
  if (std::regex_match(text, match, std::regex("([0-9]{1,4})/([0-9]{1,4})"))) {
    Shard shard{std::stoi(match[1]), std::stoi(match[2])};
    if (shard.index >= 1 && shard.index <= shard.count) {
      *out = shard;
      return true;
    }
  }
  *error = "--shard must be K/N with 1 <= K <= N (shard K of N, e.g. 2/3), got '" + text + "'";
  return false;
}

bool InShard(size_t position, const Shard& shard) {
  return position % static_cast<size_t>(shard.count) == static_cast<size_t>(shard.index - 1);
}

std::string ShardManifestJson(const Shard& shard, const std::vector<std::string>& plan,
                              const std::vector<ShardRun>& mine) {
  json runs = json::array();
  for (const ShardRun& run : mine)
    runs.push_back({{"position", run.position}, {"report", run.report_name}});
  json j = {{"format", kManifestFormat},     {"shard", shard.index}, {"of", shard.count},
            {"plan", PlanFingerprint(plan)}, {"runs", plan.size()},  {"mine", runs}};
  return j.dump(2) + "\n";
}

bool MergeShards(const std::vector<std::string>& dirs, MergedRuns* out, std::string* error) {
  std::vector<Manifest> manifests(dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i)
    if (!ReadManifest(dirs[i], &manifests[i], error)) return false;
  // Plans in the order their first folder was given.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Manifest*>> plans;
  for (const Manifest& m : manifests) {
    std::string key = m.plan + "/" + std::to_string(m.runs);
    if (!plans.count(key)) order.push_back(key);
    plans[key].push_back(&m);
  }
  for (const std::string& key : order)
    if (!CheckComplete(plans[key], error) || !ReadPlanRuns(plans[key], out, error)) return false;
  return true;
}

}  // namespace lastcall
