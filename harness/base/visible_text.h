// Text that came from outside lastcall (a target's file names, command
// lines, log lines, response bodies, header values; a scenario file's
// values) made safe to show on a terminal or in a report: every character a
// terminal would act on, or that XML 1.0 cannot hold, becomes a visible
// escape, and nothing else changes.
#ifndef LASTCALL_VISIBLE_TEXT_H_
#define LASTCALL_VISIBLE_TEXT_H_

#include <string>
#include <string_view>

namespace lastcall {

// `text` on one line: a newline becomes \n, a carriage return \r, a tab \t,
// any other C0 control character or DEL \xNN ("\x1b" for ESC), a byte that
// is not part of valid UTF-8 \xNN, a C1 control character (U+0080 to
// U+009F, which some terminals obey as ESC sequences) or the non-characters
// U+FFFE and U+FFFF \uNNNN. Backslashes stay as they are: result.json
// holds the exact text.
std::string VisibleText(std::string_view text);

// VisibleText() that keeps newlines and tabs, for text of several lines.
std::string VisibleLines(std::string_view text);

}  // namespace lastcall

#endif  // LASTCALL_VISIBLE_TEXT_H_
