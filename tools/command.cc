#include "command.h"

#include <cstdio>
#include <utility>

#include "escape.h"
#include "output.h"

namespace mdfs::cli {

std::optional<Image> OpenImageOrReport(std::string_view command, const std::string& image,
                                       const GlobalOptions& globals, bool read_only) {
  auto opened = OpenImage(image, globals.access_mode(), read_only);
  if (!opened.ok()) {
    ReportError(command, image, opened.status());
    return std::nullopt;
  }
  WarnAboutDamage(command, image, *opened->fs);
  return std::move(opened).value();
}

void WarnAboutDamage(std::string_view command, const std::string& image, FileSystem& fs) {
  auto stats = fs.StatFs();
  if (!stats.ok()) return;
  const std::string prefix =
      "mdfs " + std::string(command) + ": " + ShellEscapeIfUnprintable(image) + ": warning: ";
  if (!stats->superblock_notice.empty()) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(),
                 EscapeControlCharacters(stats->superblock_notice).c_str());
  }
  if (stats->damaged_objects > 0) {
    std::fprintf(stderr,
                 "%s%llu damaged object(s): what depends on them fails with a corruption "
                 "error; the rest is served read-only (mdfs fsck --repair fixes the image)\n",
                 prefix.c_str(), static_cast<unsigned long long>(stats->damaged_objects));
  }
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
