#include "base/file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lastcall {

bool ReadFile(const std::string& path, std::string* text, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  if (in) out << in.rdbuf();  // fails harmlessly on an empty file
  std::error_code ignored;
  const bool folder = std::filesystem::is_directory(path, ignored);
  if (!in || in.bad() || folder) {
    *error = path + ": cannot read: " + std::strerror(folder ? EISDIR : errno);
    return false;
  }
  *text = out.str();
  return true;
}

std::string ReadFileOrEmpty(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace lastcall
