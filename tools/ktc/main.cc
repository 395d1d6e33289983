// ktc: the kt model compiler's command-line front door.
#include "tools/common/subcommands.h"
#include "tools/ktc/commands.h"

namespace {

constexpr kt::tools::Subcommand kCommands[] = {
    {"gen", "write a synthetic model (GGUF + config.json) from a preset", kt::ktc::RunGen},
    {"gguf-info", "print a GGUF file's metadata and tensor table", kt::ktc::RunGgufInfo},
    {"inspect", "verify an artifact (.kta) and print its manifest", kt::ktc::RunInspect},
#ifdef KT_HAVE_COMPILER
    {"plan", "show where each op would run within a VRAM budget, and its cost", kt::ktc::RunPlan},
    {"compile", "compile a GGUF into a kt artifact (.kta) for ktrun", kt::ktc::RunCompile},
#endif
};

constexpr kt::tools::ToolInfo kTool = {
    "ktc", "the kt ahead-of-time compiler for mixture-of-experts models", "ktc <command> [options]",
    "  ktc gen --preset tiny-v3 --type q4_k_m -o tiny.gguf\n"
    "  ktc gguf-info tiny.gguf --json\n"
#ifdef KT_HAVE_COMPILER
    "  ktc plan tiny.gguf --vram 0.5GiB --ctx 256\n"
    "  ktc compile tiny.gguf --vram 0 --ctx 256 -o tiny.kta\n"
#endif
    "  ktc inspect model.kta --verify\n"};

}  // namespace

int main(int argc, char** argv) { return kt::tools::DispatchSubcommand(argc, argv, kTool, kCommands); }
