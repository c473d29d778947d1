#include "host_info.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mdfs::bench {

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string FirstLineWith(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      size_t colon = line.find(':');
      std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
      size_t start = v.find_first_not_of(" \t");
      return start == std::string::npos ? "" : v.substr(start);
    }
  }
  return "?";
}

std::string MountOf(const std::string& dir) {
  char resolved[PATH_MAX];
  if (!realpath(dir.c_str(), resolved)) return "?";
  std::string path = resolved, best_point, best;
  std::ifstream in("/proc/self/mounts");
  std::string source, point, type, rest;
  while (in >> source >> point >> type && std::getline(in, rest)) {
    bool under =
        path == point || point == "/" ||
        (path.rfind(point, 0) == 0 && path.size() > point.size() && path[point.size()] == '/');
    if (under && point.size() >= best_point.size()) {
      best_point = point;
      // "ext4-dax" for a DAX mount, so that row names tell the two apart.
      std::istringstream fields(rest);
      std::string options, option;
      fields >> options;
      std::istringstream list(options);
      bool dax = false;
      while (std::getline(list, option, ',')) dax |= option == "dax" || option == "dax=always";
      best = type + (dax ? "-dax " : " ") + source + " on " + point;
    }
  }
  return best.empty() ? "?" : best;
}

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace mdfs::bench
