#include "command.h"

#include <utility>

#include "output.h"

namespace mdfs::cli {

std::optional<Image> OpenImageOrReport(std::string_view command, const std::string& image,
                                       const GlobalOptions& globals, bool read_only) {
  auto opened = OpenImage(image, globals.access_mode(), read_only);
  if (!opened.ok()) {
    ReportError(command, image, opened.status());
    return std::nullopt;
  }
  return std::move(opened).value();
}

std::optional<Attributes> LookupOrReport(std::string_view command, FileSystem& fs,
                                         const std::string& path) {
  auto attributes = fs.LookupPath(path);
  if (!attributes.ok()) {
    ReportError(command, path, attributes.status());
    return std::nullopt;
  }
  return *attributes;
}

}  // namespace mdfs::cli
