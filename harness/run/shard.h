// --shard K/N and `lastcall report --merge`: a suite split across N CI jobs,
// and the jobs' report folders joined back into one verdict.
//
// The plan of an invocation is every scenario run in the order a serial run
// takes them: files in name order, a matrix's combinations in the order they
// are written, --repeat rounds outermost. Shard K of N takes the runs whose
// position i in the plan has i mod N == K - 1 (round robin), so every run is
// in exactly one shard, shard sizes differ by at most one, and the split is
// the same on every machine that is given the same files.
//
// Each invocation writes shard.json into its reports folder: which shard it
// was, a fingerprint of the whole plan, and its own runs with their positions.
// The merge uses it to put the runs back in plan order and to refuse a set of
// folders in which a shard is missing or given twice: a CI job that died
// before writing its reports must not make the merged verdict a pass.
#ifndef LASTCALL_SHARD_H_
#define LASTCALL_SHARD_H_

#include <cstddef>
#include <string>
#include <vector>

#include "report/report.h"
#include "scenario/scenario.h"

namespace lastcall {

struct Shard {
  int index = 1;  // K, 1-based
  int count = 1;  // N
};

// Parses "K/N" with 1 <= K <= N. Returns false and sets *error (saying what
// is expected) for anything else: "0/0", "3/2", "x".
bool ParseShard(const std::string& text, Shard* out, std::string* error);

// Whether the run at `position` of the plan belongs to `shard`.
bool InShard(size_t position, const Shard& shard);

// One run of the plan as shard.json records it.
struct ShardRun {
  size_t position;
  std::string report_name;  // its folder under the reports folder
};

// shard.json's content for `shard` of a plan whose runs' report names, in
// plan order, are `plan`; `mine` are the shard's own runs.
std::string ShardManifestJson(const Shard& shard, const std::vector<std::string>& plan,
                              const std::vector<ShardRun>& mine);

// The scenario runs of several report folders (each written by one
// `lastcall run`, sharded or not), in plan order, with what the run-level
// reports need.
struct MergedRuns {
  std::vector<ScenarioResult> results;
  std::vector<Expectation> expectations;
};

// Reads shard.json and each listed run's result.json from every folder of
// `dirs`. Folders of the same plan must hold each of its N shards exactly
// once; folders of different plans (different suites) are concatenated in
// the order given. Returns false and sets *error (naming the folder) when a
// folder has no shard.json, a shard is missing or repeated, or a listed
// run's result.json cannot be read (its job was interrupted).
bool MergeShards(const std::vector<std::string>& dirs, MergedRuns* out, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_SHARD_H_
