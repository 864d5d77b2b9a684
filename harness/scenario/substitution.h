// ${...} substitution in scenario values. Run variables (${port},
// ${database_url}, ${run_dir}, ${seed}, ${env.NAME}, ${matrix.NAME}) are known
// once per run; request variables (${key}, ${from}, ${to}, ${amount}, ${seq})
// change per request, so request templates are compiled once into segments and
// rendered per request without re-parsing.
#ifndef LASTCALL_SUBSTITUTION_H_
#define LASTCALL_SUBSTITUTION_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall {

// The names a template may use. `constants` are substituted at compile time;
// `slots` are filled per Render() call, by index. ${env.NAME} is read from the
// harness's own environment at compile time (an unset variable is an error).
struct TemplateVariables {
  std::map<std::string, std::string> constants;
  std::vector<std::string> slots;
};

// A compiled template. "$${" is a literal "${".
class Template {
 public:
  // Compiles `text`. On success returns the template; on failure returns
  // nullopt and sets *error to a message such as
  // "unknown variable ${prot} (did you mean ${port}?)" or "unterminated ${".
  static std::optional<Template> Compile(const std::string& text,
                                         const TemplateVariables& variables, std::string* error);

  // Appends the expansion to *out; values[i] fills slot i.
  void Render(const std::vector<std::string_view>& values, std::string* out) const;

  // True when the template uses no slot (its expansion is constant).
  bool IsConstant() const;

 private:
  struct Segment {
    std::string literal;  // used when slot < 0
    int slot = -1;
  };
  std::vector<Segment> segments_;
};

// The request variable names, in slot order: key, from, to, amount, seq.
const std::vector<std::string>& RequestVariableNames();

// The run variable names: port, ws_port (a second free port, for a target's
// second listener), database_url, run_dir, seed, redis_url.
const std::vector<std::string>& RunVariableNames();

}  // namespace lastcall

#endif  // LASTCALL_SUBSTITUTION_H_
