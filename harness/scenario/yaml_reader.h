// The generic half of the scenario parser, as ninja's Lexer is of its
// ManifestParser: YAML values that know their path ("load.clients") and
// position, mappings whose keys are checked against a list (with a "did you
// mean" for a misspelt one), and typed readers that record the first error
// as "file:line:column: message". Each section of the file is read with it
// (sections.h); nothing here knows what a section means.
#ifndef LASTCALL_SCENARIO_YAML_READER_H_
#define LASTCALL_SCENARIO_YAML_READER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "scenario/scenario.h"

namespace lastcall::scenario_file {

// The keys a mapping of the scenario file may have.
struct Keys {
  std::vector<std::string> known;
  // Part of the format but not implemented by this version: rejected as
  // "not supported yet" rather than as unknown, since the spec documents them.
  std::vector<std::string> unsupported;
};

// A value of the scenario file, with what messages need to point at it.
struct Value {
  bool present = false;  // false: the key is absent, keep the default
  YAML::Node node;
  YAML::Node key;    // where to point when the value itself is empty
  std::string path;  // "load.clients", "faults[0]"; "" for the document
};

struct Field {
  YAML::Node key;
  YAML::Node value;
};

// A mapping of the scenario file, its keys checked, merge keys resolved.
struct Section {
  Value self;
  std::vector<Field> fields;

  std::string PathOf(const std::string& key) const {
    return self.path.empty() ? key : self.path + "." + key;
  }
  // The value of `key`; not present when the key is absent.
  Value Get(const std::string& key) const {
    for (const Field& field : fields) {
      if (field.key.Scalar() == key) return Value{true, field.value, field.key, PathOf(key)};
    }
    return Value{false, YAML::Node(), self.key, PathOf(key)};
  }
};

// Where template variables may appear: request variables only inside
// load.request, run variables everywhere.
enum class Scope { kRun, kRequest };

// Whether `text` is one or more decimal digits and nothing else.
bool IsDigits(const std::string& text);
// A decimal integer with an optional minus sign; out-of-range values clamp.
bool ParseInteger(const std::string& text, int64_t* out);
// How a wrong value is shown after "got": numbers bare, other text quoted.
std::string Describe(const YAML::Node& node);
// 1-based; the start of the file when yaml-cpp has no position (an empty
// document), so that every message has one.
SourceLocation LocationOf(const std::string& file, const YAML::Mark& mark);

// Reads values of one scenario file. Each reader returns false after
// recording the first error, with the location of the offending node, and
// leaves *out untouched when the value is not present.
class YamlReader {
 public:
  YamlReader(std::string file, std::string dir) : file_(std::move(file)), dir_(std::move(dir)) {}

  const std::string& error() const { return error_; }
  SourceLocation Location(const YAML::Node& node) const;
  bool Fail(const YAML::Node& at, const std::string& message);
  bool Fail(const Value& value, const std::string& message);
  bool Fail(const SourceLocation& at, const std::string& message);
  bool Require(const Section& section, const std::string& key);

  bool AsSection(const Value& value, const Keys& keys, Section* out);
  bool AsMap(const Value& value, Section* out);
  bool AsList(const Value& value, std::vector<Value>* out);
  bool AsString(const Value& value, std::string* out);
  // A string that must be an ECMAScript regular expression.
  bool AsRegex(const Value& value, std::string* out);
  bool AsBool(const Value& value, bool* out);
  bool AsInt(const Value& value, int64_t min, int64_t max, int64_t* out);
  template <typename Int>
  bool AsInt(const Value& value, int64_t min, Int* out);
  template <typename Int>
  bool AsInt(const Value& value, int64_t min, int64_t max, Int* out);
  bool AsDuration(const Value& value, bool allow_zero, Duration* out);
  bool AsTemplate(const Value& value, Scope scope, std::string* out);
  bool AsPath(const Value& value, std::string* out);
  bool AsSignal(const Value& value, int* out);
  // `path` made absolute relative to the scenario file's folder.
  std::string Resolve(const std::string& path) const;

 private:
  bool CollectFields(const YAML::Node& map, const std::string& path, int depth,
                     std::vector<Field>* out);

  const std::string file_;  // as given, for messages
  const std::string dir_;   // absolute, for relative paths
  std::string error_;
};

template <typename Int>
bool YamlReader::AsInt(const Value& value, int64_t min, Int* out) {
  return AsInt(value, min, std::numeric_limits<Int>::max(), out);
}

template <typename Int>
bool YamlReader::AsInt(const Value& value, int64_t min, int64_t max, Int* out) {
  int64_t n = *out;
  if (!AsInt(value, min, max, &n)) return false;
  *out = static_cast<Int>(n);
  return true;
}

}  // namespace lastcall::scenario_file

#endif  // LASTCALL_SCENARIO_YAML_READER_H_
