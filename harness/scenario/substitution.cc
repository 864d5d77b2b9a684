#include "scenario/substitution.h"

#include <cstdlib>

#include "base/edit_distance.h"

namespace lastcall {

namespace {

// "unknown variable ${prot} (did you mean ${port}?)"
std::string UnknownVariable(const std::string& name, const TemplateVariables& variables) {
  std::vector<std::string> known = variables.slots;
  for (const auto& constant : variables.constants) known.push_back(constant.first);
  std::string message = "unknown variable ${" + name + "}";
  std::string suggestion = SpellingSuggestion(name, known);
  if (!suggestion.empty()) message += " (did you mean ${" + suggestion + "}?)";
  return message;
}

}  // namespace

std::optional<Template> Template::Compile(const std::string& text,
                                          const TemplateVariables& variables, std::string* error) {
  Template result;
  // Appends literal text, merging it into the previous literal segment so
  // that Render() does one append per run of text.
  auto add_literal = [&result](std::string_view literal) {
    if (literal.empty()) return;
    if (result.segments_.empty() || result.segments_.back().slot >= 0)
      result.segments_.emplace_back();
    result.segments_.back().literal.append(literal);
  };

  size_t pos = 0;
  while (pos < text.size()) {
    size_t dollar = text.find('$', pos);
    if (dollar == std::string::npos) {
      add_literal(std::string_view(text).substr(pos));
      break;
    }
    add_literal(std::string_view(text).substr(pos, dollar - pos));
    if (text.compare(dollar, 3, "$${") == 0) {  // escaped: a literal "${"
      add_literal("${");
      pos = dollar + 3;
      continue;
    }
    if (text.compare(dollar, 2, "${") != 0) {  // a lone '$' is just text
      add_literal("$");
      pos = dollar + 1;
      continue;
    }
    size_t close = text.find('}', dollar + 2);
    if (close == std::string::npos) {
      *error = "unterminated ${";
      return std::nullopt;
    }
    std::string name = text.substr(dollar + 2, close - dollar - 2);
    pos = close + 1;

    static const std::string kEnvPrefix = "env.";
    if (name.size() > kEnvPrefix.size() && name.rfind(kEnvPrefix, 0) == 0) {
      std::string env_name = name.substr(kEnvPrefix.size());
      const char* value = std::getenv(env_name.c_str());
      if (!value) {
        *error = "environment variable " + env_name + " is not set (${" + name + "})";
        return std::nullopt;
      }
      add_literal(value);
      continue;
    }
    auto constant = variables.constants.find(name);
    if (constant != variables.constants.end()) {
      add_literal(constant->second);
      continue;
    }
    int slot = 0;
    while (slot < static_cast<int>(variables.slots.size()) && variables.slots[slot] != name) ++slot;
    if (slot == static_cast<int>(variables.slots.size())) {
      *error = UnknownVariable(name, variables);
      return std::nullopt;
    }
    result.segments_.push_back(Segment{std::string(), slot});
  }
  return result;
}

void Template::Render(const std::vector<std::string_view>& values, std::string* out) const {
  for (const Segment& segment : segments_) {
    if (segment.slot < 0)
      out->append(segment.literal);
    else if (static_cast<size_t>(segment.slot) < values.size())
      out->append(values[segment.slot]);
  }
}

bool Template::IsConstant() const {
  for (const Segment& segment : segments_) {
    if (segment.slot >= 0) return false;
  }
  return true;
}

const std::vector<std::string>& RequestVariableNames() {
  static const std::vector<std::string> kNames = {"key", "from", "to", "amount", "seq"};
  return kNames;
}

const std::vector<std::string>& RunVariableNames() {
  static const std::vector<std::string> kNames = {"port",    "ws_port", "database_url",
                                                  "run_dir", "seed",    "redis_url"};
  return kNames;
}

}  // namespace lastcall
