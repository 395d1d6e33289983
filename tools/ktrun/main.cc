// ktrun: the kt runtime's command line. Loads a compiled artifact (.kta) and
// runs it: one-shot generation, interactive chat, benchmarks.
#include "tools/common/subcommands.h"
#include "tools/ktrun/commands.h"

namespace {

constexpr kt::tools::Subcommand kCommands[] = {
    {"generate", "generate text or tokens from a prompt", kt::ktrun::RunGenerate},
    {"chat", "interactive chat with the model's chat template", kt::ktrun::RunChat},
    {"bench", "measure prefill and decode speed against DRAM bandwidth", kt::ktrun::RunBench},
};

constexpr kt::tools::ToolInfo kTool = {
    "ktrun", "run kt artifacts (.kta) compiled by ktc", "ktrun <command> ARTIFACT [options]",
    "  ktrun generate tiny.kta --prompt \"Once upon a time\" --max-tokens 32\n"
    "  ktrun generate tiny.kta --tokens 1,2,3 --max-tokens 8 --json\n"
    "  ktrun chat tiny.kta\n"
    "  ktrun bench v2-lite.kta --prompt-len 512 --gen-len 128 --repeat 3\n"};

}  // namespace

int main(int argc, char** argv) { return kt::tools::DispatchSubcommand(argc, argv, kTool, kCommands); }
