// The front door shared by kt's multi-command tools (ktc, ktrun): usage with
// the command table and examples, --help/--version, dispatch by name.
#pragma once

#include <span>

namespace kt::tools {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // gets argv starting at the command name
};

struct ToolInfo {
  const char* name;      // "ktc"
  const char* tagline;   // one line: what the tool is
  const char* usage;     // "ktc <command> [options]"
  const char* examples;  // lines, each starting with two spaces
};

// Returns the process exit code: the command's, 0 for help/version, 2 for
// a missing or unknown command.
int DispatchSubcommand(int argc, char** argv, const ToolInfo& tool, std::span<const Subcommand> commands);

}  // namespace kt::tools
