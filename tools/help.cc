#include "help.h"

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

namespace mdfs::cli {
namespace {

constexpr size_t kWidth = 79;
constexpr size_t kIndent = 4;
constexpr size_t kOptionColumn = 30;

std::string Indent(const std::string& text, size_t spaces) {
  std::ostringstream out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out << std::string(spaces, ' ') << line;
    out << '\n';
  }
  return out.str();
}

// Word-wraps `text` so lines starting at column `start` end before kWidth;
// continuation lines are indented to `start`.
std::string Wrap(const std::string& text, size_t start) {
  std::istringstream in(text);
  std::ostringstream out;
  std::string word;
  size_t column = start;
  bool first = true;
  while (in >> word) {
    if (!first && column + 1 + word.size() > kWidth) {
      out << '\n' << std::string(start, ' ');
      column = start;
    } else if (!first) {
      out << ' ';
      ++column;
    }
    out << word;
    column += word.size();
    first = false;
  }
  return out.str();
}

std::string Section(const std::string& title, const std::string& body) {
  if (body.empty()) return "";
  return title + "\n" + Indent(body, kIndent) + "\n";
}

// "    --size SIZE               the size of ..." for one option.
std::string OptionLine(const CLI::Option* option, bool positional) {
  std::string label = option->get_name(positional, !positional);
  if (!positional && option->get_expected_max() > 0) {
    std::string text = option->get_option_text();
    label += " " + (text.empty() ? option->get_type_name() : text);
  }
  std::string line = std::string(kIndent, ' ') + label;
  if (line.size() + 2 > kOptionColumn) {
    line += "\n" + std::string(kOptionColumn, ' ');
  } else {
    line += std::string(kOptionColumn - line.size(), ' ');
  }
  return line + Wrap(option->get_description(), kOptionColumn) + "\n";
}

std::string OptionSection(const CLI::App* app, bool positional) {
  std::string body;
  for (const CLI::Option* option : app->get_options()) {
    if (option->get_positional() != positional || option->nonpositional() == positional) continue;
    body += OptionLine(option, positional);
  }
  if (body.empty()) return "";
  return std::string(positional ? "ARGUMENTS" : "OPTIONS") + "\n" + body + "\n";
}

std::string CommandSection(const CLI::App* app) {
  std::string body;
  for (const CLI::App* sub : app->get_subcommands({})) {
    std::string line = std::string(kIndent, ' ') + sub->get_name();
    line += std::string(line.size() < 16 ? 16 - line.size() : 1, ' ');
    body += line + sub->get_description() + "\n";
  }
  return body.empty() ? "" : "COMMANDS\n" + body + "\n";
}

class ManualFormatter : public CLI::Formatter {
 public:
  void Register(const CLI::App* app, HelpPage page) { pages_[app] = std::move(page); }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    auto it = pages_.find(app);
    if (it == pages_.end()) return CLI::Formatter::make_help(app, std::move(name), mode);
    const HelpPage& page = it->second;
    std::string title = page.name.empty() ? "mdfs" : "mdfs " + page.name;
    std::string text = Section("NAME", title + " - " + page.summary);
    text += Section("SYNOPSIS", page.synopsis);
    text += Section("DESCRIPTION", page.description);
    text += CommandSection(app);
    text += OptionSection(app, /*positional=*/true);
    text += OptionSection(app, /*positional=*/false);
    text += Section("EXIT STATUS", page.exit_status);
    text += Section("EXAMPLES", page.examples);
    return text;
  }

 private:
  std::map<const CLI::App*, HelpPage> pages_;
};

std::shared_ptr<ManualFormatter> FormatterOf(const CLI::App& app) {
  auto formatter = std::dynamic_pointer_cast<ManualFormatter>(app.get_formatter());
  if (formatter == nullptr) throw std::logic_error("InstallManualHelp was not called");
  return formatter;
}

}  // namespace

void InstallManualHelp(CLI::App& app, HelpPage page) {
  auto formatter = std::make_shared<ManualFormatter>();
  formatter->Register(&app, std::move(page));
  app.formatter(formatter);
}

CLI::App* AddCommandWithHelp(CLI::App& parent, HelpPage page) {
  CLI::App* sub = parent.add_subcommand(page.name, page.summary);
  FormatterOf(parent)->Register(sub, std::move(page));
  return sub;
}

std::string StandardExitStatus(const std::string& success) {
  return "0   " + success +
         "\n"
         "1   the operation failed (the error is printed on stderr)\n"
         "2   usage error: unknown option, missing argument, unparsable number";
}

}  // namespace mdfs::cli
