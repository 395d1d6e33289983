// ktc subcommands. Each lives in its own file and returns a process exit code:
// 0 success, 1 failure (message already printed), 2 bad usage.
#pragma once

namespace kt::ktc {

int RunGgufInfo(int argc, char** argv);  // gguf_info.cc
int RunGen(int argc, char** argv);       // gen.cc
int RunInspect(int argc, char** argv);   // inspect.cc
#ifdef KT_HAVE_COMPILER
int RunPlan(int argc, char** argv);      // plan.cc
int RunCompile(int argc, char** argv);   // compile.cc
#endif

}  // namespace kt::ktc
