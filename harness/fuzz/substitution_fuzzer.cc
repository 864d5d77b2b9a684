// libFuzzer entry point for the substitution engine: any bytes, as a
// template, must compile or be refused with a message, and a compiled
// template must render without a crash or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/substitution.h"

namespace {

// The variables a request template sees at run time: run variables as
// constants, request variables as slots.
lastcall::TemplateVariables RequestVariables() {
  lastcall::TemplateVariables variables;
  for (const std::string& name : lastcall::RunVariableNames())
    variables.constants[name] = "<" + name + ">";
  variables.slots = lastcall::RequestVariableNames();
  return variables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lastcall::TemplateVariables variables = RequestVariables();
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto compiled = lastcall::Template::Compile(text, variables, &error);
  if (!compiled) {
    if (error.empty())  // a refusal always says why
      __builtin_trap();
    return 0;
  }
  std::string out;
  compiled->Render({"lc-1-1", "3", "7", "250", "1"}, &out);
  // Fewer values than slots (a caller's bug) must not read out of bounds.
  compiled->Render({}, &out);
  // Text without '$' is its own expansion.
  if (text.find('$') == std::string::npos && out != text + text) __builtin_trap();
  return 0;
}
