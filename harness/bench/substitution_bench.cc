// ${...} templates: compiled once per run, rendered for every request. The
// template is the bundled scenarios' payment body; the values are what a
// client computes for each request (ValuesFor).
#include <string_view>

#include <benchmark/benchmark.h>

#include "client/load.h"
#include "scenario/substitution.h"

namespace lastcall {
namespace {

const char kBody[] = R"({"from":"acct-${from}","to":"acct-${to}","amount":${amount}})";

TemplateVariables RequestVariables() {
  TemplateVariables variables;
  variables.constants = {{"port", "8080"}, {"seed", "42"}};
  variables.slots = RequestVariableNames();
  return variables;
}

void BM_TemplateCompile(benchmark::State& state) {
  const TemplateVariables variables = RequestVariables();
  std::string error;
  for (auto _ : state) benchmark::DoNotOptimize(Template::Compile(kBody, variables, &error));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateCompile);

// Per request: draw the values from (seed, seq), then render the body.
void BM_TemplateRender(benchmark::State& state) {
  std::string error;
  const std::optional<Template> body = Template::Compile(kBody, RequestVariables(), &error);
  if (!body) {
    state.SkipWithError(error.c_str());
    return;
  }
  const LoadSpec spec;
  std::string out;
  int64_t seq = 0;
  for (auto _ : state) {
    const RequestValues v = ValuesFor(42, seq++, spec);
    out.clear();
    body->Render({v.key, v.from, v.to, v.amount, v.seq}, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateRender);

}  // namespace
}  // namespace lastcall
