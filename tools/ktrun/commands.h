// ktrun subcommands, one file each; each returns the process exit code
// (0 ok, 1 failure with the message printed, 2 bad usage).
#pragma once

namespace kt::ktrun {

int RunGenerate(int argc, char** argv);  // generate.cc
int RunChat(int argc, char** argv);      // chat.cc
int RunBench(int argc, char** argv);     // bench.cc

}  // namespace kt::ktrun
