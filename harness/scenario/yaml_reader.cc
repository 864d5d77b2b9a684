#include "scenario/yaml_reader.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
// With -fsanitize (LASTCALL_SANITIZE), GCC 12 warns of maybe-uninitialized
// members inside libstdc++'s regex compiler: a false positive, GCC PR 105616.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

#include "base/edit_distance.h"
#include "base/signal_name.h"
#include "scenario/substitution.h"

namespace lastcall {

namespace {

// The longest duration a scenario may write: about 146 years, far beyond any
// sensible one, and safe to add to (twice it still fits a Duration).
constexpr Duration kMaxDuration =
    std::chrono::seconds(std::numeric_limits<int64_t>::max() / 2 / 1000000000);

enum class DurationReading { kValid, kMalformed, kTooLarge };

DurationReading ReadDuration(const std::string& text, Duration* out) {
  // A decimal number (digits, optionally '.' and more digits), then a unit.
  size_t end = 0;
  while (end < text.size() && isdigit(static_cast<unsigned char>(text[end]))) ++end;
  if (end == 0) return DurationReading::kMalformed;
  if (end < text.size() && text[end] == '.') {
    size_t fraction = ++end;
    while (end < text.size() && isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == fraction) return DurationReading::kMalformed;
  }
  const std::string unit = text.substr(end);
  long double nanoseconds_per_unit;
  if (unit == "ms")
    nanoseconds_per_unit = 1e6L;
  else if (unit == "s")
    nanoseconds_per_unit = 1e9L;
  else if (unit == "m")
    nanoseconds_per_unit = 60e9L;
  else
    return DurationReading::kMalformed;
  long double ns = std::strtold(text.substr(0, end).c_str(), nullptr) * nanoseconds_per_unit;
  if (ns > static_cast<long double>(kMaxDuration.count())) return DurationReading::kTooLarge;
  *out = Duration(std::llround(ns));
  return DurationReading::kValid;
}

}  // namespace

std::optional<Duration> ParseDuration(const std::string& text) {
  Duration duration{0};
  if (ReadDuration(text, &duration) != DurationReading::kValid) return std::nullopt;
  return duration;
}

std::string DurationText(Duration duration) {
  const int64_t ns = duration.count();
  if (ns % 1000000000 == 0) return std::to_string(ns / 1000000000) + "s";
  std::string text = std::to_string(ns / 1000000);
  if (int64_t rest = ns % 1000000) {
    std::string fraction = std::to_string(1000000 + rest).substr(1);
    text += "." + fraction.substr(0, fraction.find_last_not_of('0') + 1);
  }
  return text + "ms";
}

namespace scenario_file {

namespace fs = std::filesystem;

bool IsDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

namespace {

// Merge keys (<<) may merge maps that merge maps; yaml-cpp accepts an
// anchor that contains its own alias, so the nesting needs a bound.
const int kMaxMergeDepth = 8;

const TemplateVariables& VariablesFor(Scope scope) {
  static const TemplateVariables kRun{{}, RunVariableNames()};
  static const TemplateVariables kRequest = [] {
    TemplateVariables variables;
    variables.slots = RequestVariableNames();
    variables.slots.insert(variables.slots.end(), RunVariableNames().begin(),
                           RunVariableNames().end());
    return variables;
  }();
  return scope == Scope::kRun ? kRun : kRequest;
}

bool Contains(const std::vector<std::string>& list, const std::string& word) {
  for (const std::string& item : list) {
    if (item == word) return true;
  }
  return false;
}

// " in load" for messages about keys; nothing at the top level.
std::string InSection(const std::string& path) { return path.empty() ? "" : " in " + path; }

}  // namespace

bool ParseInteger(const std::string& text, int64_t* out) {
  bool negative = !text.empty() && text[0] == '-';
  if (!IsDigits(negative ? text.substr(1) : text)) return false;
  *out = std::strtoll(text.c_str(), nullptr, 10);
  return true;
}

namespace {

bool IsNumber(const std::string& text) {
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  if (!whole.empty() && whole[0] == '-') whole.erase(0, 1);
  return IsDigits(whole) && (dot == std::string::npos || IsDigits(text.substr(dot + 1)));
}

}  // namespace

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return IsNumber(node.Scalar()) ? node.Scalar() : "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

SourceLocation LocationOf(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return SourceLocation{file, 1, 1};
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

namespace {

std::string IntegerKind(int64_t min) {
  if (min == 0) return "a non-negative integer";
  if (min == 1) return "a positive integer";
  return "an integer >= " + std::to_string(min);
}

}  // namespace

SourceLocation YamlReader::Location(const YAML::Node& node) const {
  return LocationOf(file_, node.Mark());
}

bool YamlReader::Fail(const YAML::Node& at, const std::string& message) {
  return Fail(Location(at), message);
}

bool YamlReader::Fail(const Value& value, const std::string& message) {
  // An empty value ("clients:") has the position of whatever follows it.
  return Fail(value.present && !value.node.IsNull() ? value.node : value.key, message);
}

bool YamlReader::Fail(const SourceLocation& at, const std::string& message) {
  error_ = at.ToString() + ": " + message;
  return false;
}

bool YamlReader::Require(const Section& section, const std::string& key) {
  if (section.Get(key).present) return true;
  return Fail(section.self.key, section.PathOf(key) + " is required");
}

bool YamlReader::CollectFields(const YAML::Node& map, const std::string& path, int depth,
                               std::vector<Field>* out) {
  // yaml-cpp 0.7 leaves merge keys (`<<: *defaults`, `<<: [*a, *b]`) as
  // ordinary keys. Resolve them as YAML 1.1 does: explicit keys win over
  // merged ones, earlier merged maps over later ones.
  const std::string where = InSection(path);
  std::vector<Field> merged;
  size_t first = out->size();
  for (const auto& pair : map) {
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    if (!key.IsScalar()) return Fail(key, "keys" + where + " must be names, got " + Describe(key));
    if (key.Scalar() != "<<") {
      for (size_t i = first; i < out->size(); ++i) {
        if ((*out)[i].key.Scalar() == key.Scalar())
          return Fail(key, "duplicate key '" + key.Scalar() + "'" + where);
      }
      out->push_back(Field{key, value});
      continue;
    }
    if (depth >= kMaxMergeDepth) return Fail(key, "merge keys (<<) nested too deeply" + where);
    std::vector<YAML::Node> sources;
    if (value.IsSequence()) {
      for (const YAML::Node& source : value) sources.push_back(source);
    } else {
      sources.push_back(value);
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap())
        return Fail(source, "<<" + where + " must merge a map, got " + Describe(source));
      if (!CollectFields(source, path, depth + 1, &merged)) return false;
    }
  }
  for (const Field& field : merged) {
    bool overridden = false;
    for (size_t i = first; i < out->size() && !overridden; ++i)
      overridden = (*out)[i].key.Scalar() == field.key.Scalar();
    if (!overridden) out->push_back(field);
  }
  return true;
}

bool YamlReader::AsMap(const Value& value, Section* out) {
  out->self = value;
  if (!value.present) return true;
  if (!value.node.IsMap()) {
    std::string what = value.path.empty() ? "the scenario" : value.path;
    return Fail(value, what + " must be a map, got " + Describe(value.node));
  }
  return CollectFields(value.node, value.path, 0, &out->fields);
}

bool YamlReader::AsSection(const Value& value, const Keys& keys, Section* out) {
  if (!AsMap(value, out)) return false;
  for (const Field& field : out->fields) {
    const std::string& key = field.key.Scalar();
    if (Contains(keys.known, key)) continue;
    if (Contains(keys.unsupported, key))
      return Fail(field.key, out->PathOf(key) + " is not supported yet");
    return Fail(field.key,
                "unknown key '" + key + "'" + InSection(value.path) + DidYouMean(key, keys.known));
  }
  return true;
}

bool YamlReader::AsList(const Value& value, std::vector<Value>* out) {
  if (!value.present) return true;
  if (!value.node.IsSequence())
    return Fail(value, value.path + " must be a list, got " + Describe(value.node));
  out->clear();
  for (size_t i = 0; i < value.node.size(); ++i) {
    YAML::Node item = value.node[i];
    out->push_back(Value{true, item, item, value.path + "[" + std::to_string(i) + "]"});
  }
  return true;
}

bool YamlReader::AsString(const Value& value, std::string* out) {
  if (!value.present) return true;
  if (!value.node.IsScalar())
    return Fail(value, value.path + " must be a string, got " + Describe(value.node));
  *out = value.node.Scalar();
  return true;
}

bool YamlReader::AsRegex(const Value& value, std::string* out) {
  if (!AsString(value, out)) return false;
  try {
    std::regex compiled(*out, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Fail(value, value.path + " is not a valid regular expression: " + std::string(e.what()));
  }
  return true;
}

bool YamlReader::AsBool(const Value& value, bool* out) {
  if (!value.present) return true;
  if (!value.node.IsScalar() || !YAML::convert<bool>::decode(value.node, *out))
    return Fail(value, value.path + " must be true or false, got " + Describe(value.node));
  return true;
}

bool YamlReader::AsInt(const Value& value, int64_t min, int64_t max, int64_t* out) {
  if (!value.present) return true;
  int64_t n = 0;
  if (!value.node.IsScalar() || !ParseInteger(value.node.Scalar(), &n) || n < min)
    return Fail(value,
                value.path + " must be " + IntegerKind(min) + ", got " + Describe(value.node));
  if (n > max)
    return Fail(value, value.path + " must be at most " + std::to_string(max) + ", got " +
                           Describe(value.node));
  *out = n;
  return true;
}

bool YamlReader::AsDuration(const Value& value, bool allow_zero, Duration* out) {
  if (!value.present) return true;
  Duration duration{0};
  DurationReading reading = DurationReading::kMalformed;
  if (value.node.IsScalar()) reading = ReadDuration(value.node.Scalar(), &duration);
  if (reading == DurationReading::kTooLarge)
    return Fail(value, value.path + " must be at most " + DurationText(kMaxDuration) +
                           " (about 146 years), got " + Describe(value.node));
  if (reading != DurationReading::kValid)
    return Fail(value, value.path +
                           " must be a duration such as 250ms, 1.5s or 1m, "
                           "got " +
                           Describe(value.node));
  if (!allow_zero && duration.count() == 0)
    return Fail(value, value.path + " must be greater than 0, got " + Describe(value.node));
  *out = duration;
  return true;
}

bool YamlReader::AsTemplate(const Value& value, Scope scope, std::string* out) {
  if (!AsString(value, out)) return false;
  if (!value.present) return true;
  // Only the names are checked here; values are substituted at run time.
  std::string error;
  if (Template::Compile(*out, VariablesFor(scope), &error)) return true;
  std::string unused;
  if (scope == Scope::kRun && Template::Compile(*out, VariablesFor(Scope::kRequest), &unused))
    error =
        "request variables (${key}, ${from}, ${to}, ${amount}, ${seq}) "
        "exist only inside load.request";
  return Fail(value, value.path + ": " + error);
}

bool YamlReader::AsPath(const Value& value, std::string* out) {
  std::string path;
  if (!AsString(value, &path)) return false;
  if (value.present) *out = Resolve(path);
  return true;
}

std::string YamlReader::Resolve(const std::string& path) const {
  return (fs::path(dir_) / path).lexically_normal().string();
}

bool YamlReader::AsSignal(const Value& value, int* out) {
  std::string name;
  if (!AsString(value, &name)) return false;
  if (!value.present) return true;
  std::optional<int> signal = ParseSignal(name);
  if (!signal) {
    return Fail(value, value.path + " must be a signal such as TERM, INT or KILL, got " +
                           Describe(value.node) + DidYouMean(name, SignalNames()));
  }
  *out = *signal;
  return true;
}

}  // namespace scenario_file
}  // namespace lastcall
