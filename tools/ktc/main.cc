// ktc: the kt model compiler's command-line front door.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "tools/ktc/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"gen", "write a synthetic model (GGUF + config.json) from a preset", kt::ktc::RunGen},
    {"gguf-info", "print a GGUF file's metadata and tensor table", kt::ktc::RunGgufInfo},
    {"inspect", "verify an artifact (.kta) and print its manifest", kt::ktc::RunInspect},
#ifdef KT_HAVE_COMPILER
    {"plan", "show where each op would run within a VRAM budget, and its cost", kt::ktc::RunPlan},
    {"compile", "compile a GGUF into a kt artifact (.kta) for ktrun", kt::ktc::RunCompile},
#endif
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "ktc: the kt ahead-of-time compiler for mixture-of-experts models\n\n"
               "usage: ktc <command> [options]   (ktc <command> --help for details)\n\n"
               "commands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nexamples:\n"
               "  ktc gen --preset tiny-v3 --type q4_k_m -o tiny.gguf\n"
               "  ktc gguf-info tiny.gguf --json\n"
#ifdef KT_HAVE_COMPILER
               "  ktc plan tiny.gguf --vram 0.5GiB --ctx 256\n"
               "  ktc compile tiny.gguf --vram 0 --ctx 256 -o tiny.kta\n"
#endif
               "  ktc inspect model.kta --verify\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("ktc 0.1.0\n");
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "ktc: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
