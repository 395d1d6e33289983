// ktrun: the kt runtime's command line. Loads a compiled artifact (.kta) and
// runs it: one-shot generation, interactive chat, benchmarks.
#include <cstdio>
#include <string_view>

#include "tools/ktrun/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"generate", "generate text or tokens from a prompt", kt::ktrun::RunGenerate},
    {"chat", "interactive chat with the model's chat template", kt::ktrun::RunChat},
    {"bench", "measure prefill and decode speed against DRAM bandwidth", kt::ktrun::RunBench},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "ktrun: run kt artifacts (.kta) compiled by ktc\n\n"
               "usage: ktrun <command> ARTIFACT [options]   (ktrun <command> --help for details)\n\n"
               "commands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nexamples:\n"
               "  ktrun generate tiny.kta --prompt \"Once upon a time\" --max-tokens 32\n"
               "  ktrun generate tiny.kta --tokens 1,2,3 --max-tokens 8 --json\n"
               "  ktrun chat tiny.kta\n"
               "  ktrun bench v2-lite.kta --prompt-len 512 --gen-len 128 --repeat 3\n");
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
    std::printf("ktrun 0.1.0\n");
    return 0;
  }
  for (const Command& c : kCommands)
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "ktrun: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
