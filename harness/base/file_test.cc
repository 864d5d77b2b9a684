#include "base/file.h"

#include <fstream>

#include <catch2/catch.hpp>

#include "base/temp_dir.h"

namespace lastcall {
namespace {

TEST_CASE("ReadFile reads every byte and names the path when it cannot") {
  TempDir dir;
  const std::string folder = dir.path.string();
  const std::string path = folder + "/f";
  std::ofstream(path, std::ios::binary) << std::string("a\0b\n", 4);
  std::string text, error;
  REQUIRE(ReadFile(path, &text, &error));
  CHECK(text == std::string("a\0b\n", 4));

  CHECK_FALSE(ReadFile(folder + "/missing", &text, &error));
  CHECK(error == folder + "/missing: cannot read: No such file or directory");
  CHECK_FALSE(ReadFile(folder, &text, &error));
  CHECK(error == folder + ": cannot read: Is a directory");
}

TEST_CASE("ReadFileOrEmpty starts at an offset and is empty for a missing file") {
  TempDir dir;
  const std::string path = dir.Write("log", "0123456789");
  CHECK(ReadFileOrEmpty(path, 4) == "456789");
  CHECK(ReadFileOrEmpty((dir.path / "missing").string()).empty());
}

}  // namespace
}  // namespace lastcall
