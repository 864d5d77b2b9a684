#include "base/visible_text.h"

#include <cstdio>

namespace lastcall {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `text`
// (Unicode's table 3-7: no overlong forms, no surrogates, nothing past
// U+10FFFF) and its code point; 0 when there is none.
size_t Utf8Sequence(std::string_view text, char32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < second_min || byte(1) > second_max) return 0;
  char32_t value = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if (i > 1 && (byte(i) < 0x80 || byte(i) > 0xBF)) return 0;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  *code_point = value;
  return length;
}

std::string Escaped(std::string_view text, bool keep_layout) {
  std::string out;
  out.reserve(text.size());
  char escape[8];
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {  // C0 control characters and DEL
      if (keep_layout && (c == '\n' || c == '\t'))
        out += static_cast<char>(c);
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else {
        std::snprintf(escape, sizeof escape, "\\x%02x", c);
        out += escape;
      }
      ++i;
      continue;
    }
    char32_t code_point = 0;
    const size_t length = Utf8Sequence(text.substr(i), &code_point);
    if (length == 0) {
      std::snprintf(escape, sizeof escape, "\\x%02x", c);
      out += escape;
      ++i;
    } else if (code_point <= 0x9F || code_point == 0xFFFE || code_point == 0xFFFF) {
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(code_point));
      out += escape;
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace

std::string VisibleText(std::string_view text) { return Escaped(text, false); }

std::string VisibleLines(std::string_view text) { return Escaped(text, true); }

}  // namespace lastcall
