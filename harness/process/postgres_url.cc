// PostgreSQL connection strings. See postgres_url.h.
#include "process/postgres_url.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include <libpq-fe.h>

namespace lastcall {

std::string UrlWithParam(const std::string& url, const std::string& key, const std::string& value) {
  if (url.find("://") == std::string::npos) return url + " " + key + "=" + value;
  size_t hash = url.find('#');
  std::string head = url.substr(0, hash);
  head += (head.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  return head;
}

// A connection for our own bookkeeping: named "lastcall", so that it can be
// told apart from the target's sessions, and quiet (no NOTICEs on stderr).
std::unique_ptr<pqxx::connection> ConnectAsLastcall(const std::string& url) {
  auto c = std::make_unique<pqxx::connection>(UrlWithParam(url, "application_name", "lastcall"));
  pqxx::nontransaction w(*c);
  w.exec("SET client_min_messages = warning");
  return c;
}

namespace {

// Percent-encodes a URI path segment.
std::string PercentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Quotes a keyword/value conninfo value.
std::string ConninfoQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

std::string RandomPassword() {
  std::random_device random;
  std::string password;
  char hex[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof hex, "%08x", random());
    password += hex;
  }
  return password;
}

std::string PostgresMessage(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string UrlWithDatabase(const std::string& url, const std::string& dbname) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A keyword/value conninfo ("host=... dbname=..."): a later dbname wins.
    return url + (url.empty() ? "" : " ") + "dbname=" + ConninfoQuote(dbname);
  }
  // postgresql://[userinfo@][host][:port][,...][/dbname][?params][#...]
  const size_t authority = scheme + 3;
  size_t path = url.find_first_of("/?#", authority);
  std::string head = url.substr(0, path == std::string::npos ? url.size() : path);
  std::string rest;
  if (path != std::string::npos) {
    size_t params = url.find_first_of("?#", path);
    if (params != std::string::npos) rest = url.substr(params);
  }
  return head + "/" + PercentEncode(dbname) + rest;
}

namespace {

// `query` ("?a=1&b=2", or "") without its user and password parameters,
// which would win over the userinfo.
std::string WithoutLoginParams(const std::string& query) {
  std::string kept;
  std::istringstream params(query.empty() ? "" : query.substr(1));
  for (std::string param; std::getline(params, param, '&');) {
    std::string key = param.substr(0, param.find('='));
    if (key == "user" || key == "password" || param.empty()) continue;
    kept += (kept.empty() ? "?" : "&") + param;
  }
  return kept;
}

}  // namespace

std::string UrlWithLogin(const std::string& url, const std::string& user,
                         const std::string& password) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A keyword/value conninfo: later keywords win.
    return url + (url.empty() ? "" : " ") + "user=" + ConninfoQuote(user) +
           " password=" + ConninfoQuote(password);
  }
  const size_t authority = scheme + 3;
  const size_t path = std::min(url.find_first_of("/?#", authority), url.size());
  // The userinfo ends at the authority's last '@' (a password may hold one).
  const size_t at = url.rfind('@', path == 0 ? 0 : path - 1);
  const size_t hosts = at != std::string::npos && at >= authority ? at + 1 : authority;
  const size_t params = std::min(url.find_first_of("?#", path), url.size());
  const size_t fragment = std::min(url.find('#', params), url.size());
  return url.substr(0, authority) + PercentEncode(user) + ":" + PercentEncode(password) + "@" +
         url.substr(hosts, params - hosts) +
         WithoutLoginParams(url.substr(params, fragment - params)) + url.substr(fragment);
}

std::vector<std::pair<std::string, std::string>> LibpqEnvironment(const std::string& url) {
  static const std::map<std::string, std::string> kVariables = {{"host", "PGHOST"},
                                                                {"port", "PGPORT"},
                                                                {"dbname", "PGDATABASE"},
                                                                {"user", "PGUSER"},
                                                                {"password", "PGPASSWORD"}};
  std::vector<std::pair<std::string, std::string>> env;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return env;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    auto variable = kVariables.find(o->keyword);
    if (variable != kVariables.end() && o->val != nullptr && *o->val != '\0')
      env.emplace_back(variable->second, o->val);
  }
  PQconninfoFree(options);
  return env;
}

}  // namespace lastcall
