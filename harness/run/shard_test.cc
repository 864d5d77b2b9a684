#include "run/shard.h"

#include <filesystem>

#include <catch2/catch.hpp>

#include "base/temp_dir.h"

using namespace lastcall;

TEST_CASE("ParseShard takes K/N with 1 <= K <= N and refuses the rest") {
  Shard shard;
  std::string error;
  REQUIRE(ParseShard("2/3", &shard, &error));
  CHECK(shard.index == 2);
  CHECK(shard.count == 3);
  REQUIRE(ParseShard("1/1", &shard, &error));
  for (const char* bad :
       {"0/0", "3/2", "0/3", "x", "", "1/", "/2", "1/2/3", "-1/2", "1 /2", "a/b"}) {
    INFO(bad);
    CHECK_FALSE(ParseShard(bad, &shard, &error));
    CHECK(error.find("K/N") != std::string::npos);
  }
}

TEST_CASE("InShard puts every run of a plan in exactly one shard and balances their sizes") {
  for (int count = 1; count <= 7; ++count)
    for (size_t runs = 0; runs <= 30; ++runs) {
      INFO(runs << " runs in " << count << " shards");
      std::vector<size_t> size(count + 1, 0);
      for (size_t position = 0; position < runs; ++position) {
        int owners = 0;
        for (int k = 1; k <= count; ++k)
          if (InShard(position, Shard{k, count})) {
            ++owners;
            ++size[k];
          }
        CHECK(owners == 1);
      }
      auto [least, most] = std::minmax_element(size.begin() + 1, size.end());
      CHECK(*most - *least <= 1);
    }
}

namespace {

// Writes shard.json of shard `index`/`count` of a 4-run plan into dir/name.
std::string ManifestFolder(const TempDir& dir, const std::string& name, int index, int count,
                           const std::vector<std::string>& plan = {"a", "b", "c", "d"}) {
  std::filesystem::create_directories(dir.path / name);
  std::vector<ShardRun> mine;
  for (size_t i = 0; i < plan.size(); ++i)
    if (InShard(i, Shard{index, count})) mine.push_back({i, plan[i]});
  dir.Write(name + "/shard.json", ShardManifestJson(Shard{index, count}, plan, mine));
  return (dir.path / name).string();
}

}  // namespace

TEST_CASE("MergeShards refuses a missing shard a repeated one and a folder without shard.json") {
  TempDir dir;
  MergedRuns merged;
  std::string error;
  const std::string one = ManifestFolder(dir, "one", 1, 3),
                    three = ManifestFolder(dir, "three", 3, 3);
  CHECK_FALSE(MergeShards({one, three}, &merged, &error));
  CHECK(error.find("shard 2/3") != std::string::npos);
  CHECK(error.find("missing") != std::string::npos);

  const std::string again = ManifestFolder(dir, "again", 1, 3);
  CHECK_FALSE(MergeShards({one, again, three}, &merged, &error));
  CHECK(error.find("both shard 1/3") != std::string::npos);

  const std::string of_two = ManifestFolder(dir, "of-two", 2, 2);
  CHECK_FALSE(MergeShards({one, of_two}, &merged, &error));
  CHECK(error.find("of 3 shards") != std::string::npos);

  std::filesystem::create_directories(dir.path / "empty");
  CHECK_FALSE(MergeShards({(dir.path / "empty").string()}, &merged, &error));
  CHECK(error.find("shard.json: missing") != std::string::npos);
}

TEST_CASE("MergeShards reads each listed run and says when one has no result.json") {
  TempDir dir;
  MergedRuns merged;
  std::string error;
  // Two shards of the same plan are complete; their runs' result.json are
  // not there, as when a job was killed mid-run.
  const std::string a = ManifestFolder(dir, "a", 1, 2), b = ManifestFolder(dir, "b", 2, 2);
  CHECK_FALSE(MergeShards({b, a}, &merged, &error));
  CHECK(error.find("/a/a/result.json") != std::string::npos);  // position 0 first
  CHECK(error.find("interrupted") != std::string::npos);
  // A folder of another plan is not a shard of this one.
  const std::string other = ManifestFolder(dir, "other", 1, 1, {"x"});
  CHECK_FALSE(MergeShards({a, other}, &merged, &error));
  CHECK(error.find("shard 2/2") != std::string::npos);
}
