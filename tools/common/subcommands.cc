#include "tools/common/subcommands.h"

#include <cstdio>
#include <string_view>

namespace kt::tools {
namespace {

void PrintUsage(std::FILE* out, const ToolInfo& tool, std::span<const Subcommand> commands) {
  std::fprintf(out, "%s: %s\n\nusage: %s   (%s <command> --help for details)\n\ncommands:\n", tool.name,
               tool.tagline, tool.usage, tool.name);
  for (const Subcommand& c : commands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\nexamples:\n%s", tool.examples);
}

}  // namespace

int DispatchSubcommand(int argc, char** argv, const ToolInfo& tool, std::span<const Subcommand> commands) {
  if (argc < 2) {
    PrintUsage(stderr, tool, commands);
    return 2;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout, tool, commands);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("%s 0.1.0\n", tool.name);
    return 0;
  }
  for (const Subcommand& c : commands)
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "%s: unknown command '%s'\n\n", tool.name, argv[1]);
  PrintUsage(stderr, tool, commands);
  return 2;
}

}  // namespace kt::tools
