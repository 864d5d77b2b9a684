#include "base/visible_text.h"

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("VisibleText shows every control character as an escape and keeps the rest") {
  CHECK(VisibleText("plain `text` \\x1b | <b>") == "plain `text` \\x1b | <b>");
  CHECK(VisibleText("\x1b]0;owned\x07\x1b[2J") == "\\x1b]0;owned\\x07\\x1b[2J");
  CHECK(VisibleText("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(VisibleText(std::string("nul\0del\x7f", 8)) == "nul\\x00del\\x7f");
  // UTF-8 stays; C1 controls (U+009B is CSI) and non-characters do not.
  CHECK(VisibleText("caf\xc3\xa9 \xe2\x9c\x85") == "caf\xc3\xa9 \xe2\x9c\x85");
  CHECK(VisibleText("\xc2\x9b"
                    "31m") == "\\u009b31m");
  CHECK(VisibleText("\xef\xbf\xbe") == "\\ufffe");
  // Bytes that are not UTF-8: a lone CSI, a cut sequence, an overlong '/',
  // a surrogate.
  CHECK(VisibleText("\x9b"
                    "31m") == "\\x9b31m");
  CHECK(VisibleText("\xe2\x9c") == "\\xe2\\x9c");
  CHECK(VisibleText("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(VisibleText("\xed\xa0\x80") == "\\xed\\xa0\\x80");
}

TEST_CASE("VisibleLines keeps newlines and tabs, and escapes the rest") {
  CHECK(VisibleLines("line 1\n\tline 2\r\x1b[1A") == "line 1\n\tline 2\\r\\x1b[1A");
}
