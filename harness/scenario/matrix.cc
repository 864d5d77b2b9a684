#include "scenario/matrix.h"

#include <cctype>
#include <cstdio>
#include <set>

#include "base/edit_distance.h"

namespace lastcall {

namespace {

// "file:line:column" of a node; the start of the file when yaml-cpp has no
// position for it (a node that --set created).
std::string Where(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return file + ":1:1";
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool Fail(const std::string& file, const YAML::Node& at, const std::string& message,
          std::string* error) {
  *error = Where(file, at) + ": " + message;
  return false;
}

bool IsDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// "faults[0].grace" -> {"faults", "0", "grace"}. An empty step ("a..b",
// "a[]") makes the path invalid: returns an empty list.
std::vector<std::string> PathSteps(const std::string& path) {
  std::string dotted;
  for (char c : path) {
    if (c == '[')
      dotted += '.';
    else if (c != ']')
      dotted += c;
  }
  std::vector<std::string> steps;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string step = dotted.substr(start, dot - start);
    if (step.empty()) return {};
    steps.push_back(step);
    if (dot == std::string::npos) return steps;
    start = dot + 1;
  }
}

// "an item", "3 items": how long a list is, for messages.
std::string Items(size_t n) { return n == 1 ? "1 item" : std::to_string(n) + " items"; }

// The node at `step` below `node`, created when `node` is a map (or empty)
// without that key. Returns false and sets *why when `node` is a scalar, or
// a list that `step` is not an index of.
bool Descend(YAML::Node node, const std::string& walked, const std::string& step, YAML::Node* child,
             std::string* why) {
  if (node.IsSequence()) {
    if (!IsDigits(step) || std::stoul(step) >= node.size()) {
      *why = walked + " is a list of " + Items(node.size()) + ", no index " + step;
      return false;
    }
    child->reset(node[std::stoul(step)]);
    return true;
  }
  if (node.IsScalar()) {
    *why = walked + " is a value (\"" + node.Scalar() + "\"), not a map or a list";
    return false;
  }
  // A map, or nothing yet (`env:`): a missing key is created.
  child->reset(node[step]);
  return true;
}

// Each ${matrix.NAME} in `text` replaced with NAME's value, "$${" left for
// the template engine. Names that `combination` lacks go to *unknown, names
// found to *used.
std::string Substituted(const std::string& text, const Combination& combination,
                        std::vector<std::string>* unknown, std::set<std::string>* used) {
  static const std::string kOpen = "${matrix.";
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t dollar = text.find('$', pos);
    size_t close = dollar == std::string::npos ? dollar : text.find('}', dollar);
    if (dollar == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    out.append(text, pos, dollar - pos);
    if (text.compare(dollar, 3, "$${") == 0) {
      out += "$${";
      pos = dollar + 3;
      continue;
    }
    if (text.compare(dollar, kOpen.size(), kOpen) != 0 || close == std::string::npos) {
      out += '$';
      pos = dollar + 1;
      continue;
    }
    std::string name = text.substr(dollar + kOpen.size(), close - dollar - kOpen.size());
    pos = close + 1;
    auto value = std::find_if(combination.begin(), combination.end(),
                              [&](const auto& entry) { return entry.first == name; });
    if (value == combination.end()) {
      unknown->push_back(name);
      continue;
    }
    used->insert(name);
    out += value->second;
  }
  return out;
}

// What a walk over the tree has seen: the maps and lists already visited.
// An alias is the node it names, so each is walked once, and a map that
// contains itself (`a: &a {b: *a}`) does not recurse for ever.
struct Walk {
  const Combination& combination;
  const std::string& file;
  std::set<std::string> used;  // the matrix names found
  std::vector<YAML::Node> visited;

  bool FirstVisit(const YAML::Node& node) {
    for (const YAML::Node& seen : visited)
      if (seen.is(node)) return false;
    visited.push_back(node);
    return true;
  }
};

// Substitutes in every scalar below `node`. Returns false at the first
// scalar that names an unknown matrix variable.
bool SubstituteIn(YAML::Node node, Walk* walk, std::string* error) {
  const Combination& combination = walk->combination;
  const std::string& file = walk->file;
  if (node.IsScalar()) {
    std::vector<std::string> unknown;
    std::string text = Substituted(node.Scalar(), combination, &unknown, &walk->used);
    if (!unknown.empty()) {
      std::vector<std::string> names;
      for (const auto& entry : combination) names.push_back(entry.first);
      std::string suggestion = SpellingSuggestion(unknown[0], names);
      std::string message = "unknown variable ${matrix." + unknown[0] + "}";
      if (combination.empty())
        message += ": the scenario has no matrix";
      else if (!suggestion.empty())
        message += " (did you mean ${matrix." + suggestion + "}?)";
      return Fail(file, node, message, error);
    }
    if (text != node.Scalar()) node = text;  // in place: the Mark stays
    return true;
  }
  if (!walk->FirstVisit(node)) return true;
  if (node.IsSequence()) {
    for (YAML::Node item : node)
      if (!SubstituteIn(item, walk, error)) return false;
  } else if (node.IsMap()) {
    for (auto entry : node)
      if (!SubstituteIn(entry.first, walk, error) || !SubstituteIn(entry.second, walk, error))
        return false;
  }
  return true;
}

// A matrix name: what may stand between "${matrix." and "}".
bool IsMatrixName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// The values of one matrix name, checked.
bool MatrixValues(const std::string& file, const YAML::Node& name, const YAML::Node& list,
                  std::vector<std::string>* values, std::string* error) {
  const std::string path = "matrix." + name.Scalar();
  if (!list.IsSequence())
    return Fail(file, list.IsNull() ? name : list, path + " must be a list of values", error);
  if (list.size() == 0) return Fail(file, list, path + " must list at least one value", error);
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& item = list[i];
    if (!item.IsScalar())
      return Fail(file, item.IsNull() ? list : item,
                  path + "[" + std::to_string(i) + "] must be a single value, got " +
                      (item.IsMap()        ? "a map"
                       : item.IsSequence() ? "a list"
                                           : "nothing"),
                  error);
    if (std::find(values->begin(), values->end(), item.Scalar()) != values->end())
      return Fail(file, item, "duplicate value '" + item.Scalar() + "' in " + path, error);
    values->push_back(item.Scalar());
  }
  return true;
}

}  // namespace

bool ApplyOverride(const std::string& assignment, YAML::Node root, std::string* error) {
  const size_t equals = assignment.find('=');
  const std::vector<std::string> steps = PathSteps(assignment.substr(0, equals));
  if (equals == std::string::npos || steps.empty()) {
    *error = "--set " + assignment +
             ": expected KEY=VALUE, KEY a dotted path "
             "such as faults.0.grace";
    return false;
  }
  YAML::Node node = root;
  std::string walked;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    YAML::Node child;
    std::string why;
    if (!Descend(node, walked.empty() ? "the scenario" : walked, steps[i], &child, &why)) {
      *error = "--set " + assignment + ": " + why;
      return false;
    }
    walked += (walked.empty() ? "" : ".") + steps[i];
    node.reset(child);
  }
  YAML::Node target;
  std::string why;
  if (!Descend(node, walked.empty() ? "the scenario" : walked, steps.back(), &target, &why)) {
    *error = "--set " + assignment + ": " + why;
    return false;
  }
  target = assignment.substr(equals + 1);  // in place: the Mark stays
  return true;
}

bool MatrixCombinations(const YAML::Node& root, const std::string& file,
                        std::vector<Combination>* combinations, std::string* error) {
  combinations->assign(1, Combination());
  if (!root.IsMap() || !root["matrix"]) return true;
  const YAML::Node matrix = root["matrix"];
  if (!matrix.IsMap() || matrix.size() == 0)
    return Fail(file, matrix,
                "matrix must map names to lists of values, "
                "such as grace: [1s, 30s]",
                error);
  for (const auto& entry : matrix) {
    const YAML::Node& name = entry.first;
    if (!name.IsScalar() || !IsMatrixName(name.Scalar()))
      return Fail(file, name, "matrix names are letters, digits, _ and -", error);
    std::vector<std::string> values;
    if (!MatrixValues(file, name, entry.second, &values, error)) return false;
    if (combinations->size() * values.size() > kMaxCombinations)
      return Fail(file, matrix,
                  "the matrix has more than " + std::to_string(kMaxCombinations) + " combinations",
                  error);
    std::vector<Combination> product;
    for (const Combination& partial : *combinations)
      for (const std::string& value : values) {
        product.push_back(partial);
        product.back().emplace_back(name.Scalar(), value);
      }
    combinations->swap(product);
  }
  return true;
}

bool SubstituteMatrix(const Combination& combination, const std::string& file, YAML::Node root,
                      std::string* error) {
  Walk walk{combination, file, {}, {}};
  if (root.IsMap()) {
    for (auto entry : root)
      if (entry.first.Scalar() != "matrix" && !SubstituteIn(entry.second, &walk, error))
        return false;
  } else if (!SubstituteIn(root, &walk, error)) {
    return false;
  }
  for (const auto& [name, value] : combination)
    if (!walk.used.count(name)) {
      YAML::Node key;
      for (const auto& entry : root["matrix"])
        if (entry.first.Scalar() == name) key.reset(entry.first);
      return Fail(
          file, key,
          "matrix." + name + " is used nowhere: write ${matrix." + name + "} where its values go",
          error);
    }
  return true;
}

std::string CombinationLabel(const Combination& combination) {
  auto escaped = [](const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
      if (isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == ':') {
        out += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
    }
    return out;
  };
  std::string label;
  for (const auto& [name, value] : combination)
    label += (label.empty() ? "" : ",") + name + "=" + escaped(value);
  return label;
}

bool SelectedByOnly(const std::string& name, const std::string& only) {
  return name == only || name.rfind(only + "/", 0) == 0;
}

}  // namespace lastcall
