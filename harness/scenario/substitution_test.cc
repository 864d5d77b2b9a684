#include "scenario/substitution.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

// Counts heap allocations, to show that Render() does none of its own.
// Replacing the global operator new affects the whole test binary, which
// is harmless: it only counts. Every form that pairs with the plain delete
// is replaced, so that AddressSanitizer sees matching pairs.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size ? size : 1);
}
void* operator new(std::size_t size) {
  if (void* p = operator new(size, std::nothrow)) return p;
  throw std::bad_alloc();
}
// GCC cannot tell that these free() what the operator new above malloc()ed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace lastcall {
namespace {

// Compiles `text` (which must succeed) and renders it with `values`.
std::string Expand(const std::string& text, const TemplateVariables& variables,
                   const std::vector<std::string_view>& values = {}) {
  std::string error;
  std::optional<Template> compiled = Template::Compile(text, variables, &error);
  REQUIRE(compiled.has_value());
  CHECK(error.empty());
  std::string out;
  compiled->Render(values, &out);
  return out;
}

// Compiles `text`, which must fail, and returns the error.
std::string CompileError(const std::string& text, const TemplateVariables& variables) {
  std::string error;
  CHECK_FALSE(Template::Compile(text, variables, &error).has_value());
  return error;
}

TemplateVariables RequestScope() {
  TemplateVariables variables;
  variables.constants = {{"port", "8080"},
                         {"database_url", "postgresql://db"},
                         {"run_dir", "/tmp/run"},
                         {"seed", "42"}};
  variables.slots = RequestVariableNames();
  return variables;
}

TEST_CASE("Variable names", "[substitution]") {
  CHECK(RequestVariableNames() == std::vector<std::string>{"key", "from", "to", "amount", "seq"});
  CHECK(RunVariableNames() == std::vector<std::string>{"port", "ws_port", "database_url", "run_dir",
                                                       "seed", "redis_url"});
}

TEST_CASE("Text without variables is copied", "[substitution]") {
  CHECK(Expand("", {}) == "");
  CHECK(Expand("/payments", {}) == "/payments");
  CHECK(Expand("costs $5 or {x}", {}) == "costs $5 or {x}");
  CHECK(Expand("trailing $", {}) == "trailing $");
}

TEST_CASE("Constants are substituted at compile time", "[substitution]") {
  TemplateVariables variables = RequestScope();
  std::string error;
  auto compiled = Template::Compile("http://127.0.0.1:${port}/x?s=${seed}", variables, &error);
  REQUIRE(compiled.has_value());
  CHECK(compiled->IsConstant());
  variables.constants["port"] = "9999";  // too late: already substituted
  std::string out;
  compiled->Render({}, &out);
  CHECK(out == "http://127.0.0.1:8080/x?s=42");
}

TEST_CASE("Slots are filled per Render and appended", "[substitution]") {
  std::string error;
  auto body = Template::Compile(R"({"from":"acct-${from}","to":"acct-${to}","amount":${amount}})",
                                RequestScope(), &error);
  REQUIRE(body.has_value());
  CHECK_FALSE(body->IsConstant());

  std::string out = "> ";
  body->Render({"k1", "3", "7", "250", "1"}, &out);
  CHECK(out == R"(> {"from":"acct-3","to":"acct-7","amount":250})");
  out.clear();
  body->Render({"k2", "12", "1", "5", "2"}, &out);
  CHECK(out == R"({"from":"acct-12","to":"acct-1","amount":5})");
}

TEST_CASE("A variable may be used twice, and next to another", "[substitution]") {
  CHECK(Expand("${key}${key}-${seq}${port}", RequestScope(), {"k", "1", "2", "3", "9"}) ==
        "kk-98080");
}

TEST_CASE("$${ is a literal ${", "[substitution]") {
  CHECK(Expand("$${port}", RequestScope()) == "${port}");
  CHECK(Expand("a $${b} ${port}", RequestScope()) == "a ${b} 8080");
  CHECK(Expand("$${", {}) == "${");
}

TEST_CASE("${env.NAME} is read from the environment at compile time", "[substitution]") {
  REQUIRE(setenv("LASTCALL_TEST_DRAIN", "10s", 1) == 0);
  std::string error;
  auto compiled =
      Template::Compile("drain=${env.LASTCALL_TEST_DRAIN}", TemplateVariables(), &error);
  REQUIRE(compiled.has_value());
  CHECK(compiled->IsConstant());
  REQUIRE(setenv("LASTCALL_TEST_DRAIN", "changed", 1) == 0);
  std::string out;
  compiled->Render({}, &out);
  CHECK(out == "drain=10s");
  unsetenv("LASTCALL_TEST_DRAIN");
}

TEST_CASE("An unset environment variable is an error", "[substitution]") {
  unsetenv("LASTCALL_TEST_UNSET");
  CHECK(CompileError("${env.LASTCALL_TEST_UNSET}", {}) ==
        "environment variable LASTCALL_TEST_UNSET is not set "
        "(${env.LASTCALL_TEST_UNSET})");
}

TEST_CASE("Unknown variables are errors, with a suggestion", "[substitution]") {
  CHECK(CompileError("--port=${prot}", RequestScope()) ==
        "unknown variable ${prot} (did you mean ${port}?)");
  CHECK(CompileError("${amout}", RequestScope()) ==
        "unknown variable ${amout} (did you mean ${amount}?)");
  CHECK(CompileError("${nothing_like_it}", RequestScope()) ==
        "unknown variable ${nothing_like_it}");
  CHECK(CompileError("${}", RequestScope()) == "unknown variable ${}");
  CHECK(CompileError("${env.}", RequestScope()) == "unknown variable ${env.}");
  // Request variables exist only where they are slots.
  TemplateVariables run;
  run.slots = RunVariableNames();
  CHECK(CompileError("${key}", run) == "unknown variable ${key}");
}

TEST_CASE("An unterminated ${ is an error", "[substitution]") {
  CHECK(CompileError("--port=${port", RequestScope()) == "unterminated ${");
  CHECK(CompileError("${", {}) == "unterminated ${");
}

TEST_CASE("Render allocates nothing beyond growing its output", "[substitution]") {
  std::string error;
  auto body = Template::Compile(R"({"key":"${key}","from":${from},"to":${to},"amount":${amount}})",
                                RequestScope(), &error);
  REQUIRE(body.has_value());
  const std::vector<std::string_view> values = {"a-long-idempotency-key-0001", "3", "7", "250",
                                                "1"};
  std::string out;
  out.reserve(256);
  long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    body->Render(values, &out);
  }
  CHECK(g_allocations.load() == before);
  CHECK(out == R"({"key":"a-long-idempotency-key-0001","from":3,"to":7,)"
               R"("amount":250})");
}

TEST_CASE("Missing values render as nothing", "[substitution]") {
  CHECK(Expand("[${key}|${seq}]", RequestScope(), {"k"}) == "[k|]");
}

}  // namespace
}  // namespace lastcall
