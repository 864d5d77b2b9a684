#include "run/progress.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

// A FILE* writing into memory; text() once the board is gone.
struct MemoryFile {
  char* data = nullptr;
  size_t size = 0;
  std::FILE* file = open_memstream(&data, &size);
  ~MemoryFile() { std::free(data); }
  std::string text() {
    std::fflush(file);
    return std::string(data, size);
  }
};

}  // namespace

TEST_CASE("a progress line per run shows phase time outcomes in flight and signals") {
  MemoryFile out;
  ProgressBoard board(out.file, false);
  RunStatus a, b;
  a.phase = "load";
  a.ok = 120;
  a.failed = 3;
  a.unknown = 1;
  a.in_flight = 8;
  a.signals = 1;
  board.Add("sigterm-under-load", &a);
  board.Add(std::string(60, 'x'), &b);
  std::string lines = board.Render();
  CHECK(lines.find("sigterm-under-load") != std::string::npos);
  CHECK(lines.find("load") != std::string::npos);
  CHECK(lines.find("ok 120  failed 3  unknown 1  in flight 8  signals 1") != std::string::npos);
  CHECK(lines.find(std::string(39, 'x') + "~") != std::string::npos);  // long names cut
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
  board.Remove(&a);
  CHECK(board.Render().find("sigterm-under-load") == std::string::npos);
  std::fclose(out.file);
}

TEST_CASE("not live means printed text only and no cursor movement") {
  MemoryFile out;
  {
    ProgressBoard board(out.file, false);
    RunStatus s;
    board.Add("a", &s);
    board.Print("PASS  a\n");
    board.Remove(&s);
  }
  CHECK(out.text() == "PASS  a\n");
  std::fclose(out.file);
}

TEST_CASE("live means finished runs above the lines and the lines erased at the end") {
  MemoryFile out;
  {
    ProgressBoard board(out.file, true);
    RunStatus s;
    s.phase = "load";
    board.Add("a", &s);
    board.Remove(&s);  // redraws: no line left
    board.Add("b", &s);
    board.Print("PASS  a\n");  // erases nothing yet drawn for b, then draws b
  }
  std::string text = out.text();
  size_t printed = text.find("PASS  a\n");
  REQUIRE(printed != std::string::npos);
  size_t line_b = text.find(".. b ");
  REQUIRE(line_b != std::string::npos);
  CHECK(line_b > printed);  // the live line comes after the finished run
  // The board's last act: moving up over b's line and clearing it.
  CHECK(text.size() >= 8);
  CHECK(text.substr(text.size() - 8) == "\x1b[1A\x1b[2K");
  std::fclose(out.file);
}
