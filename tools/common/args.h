// A small command-line parser shared by kt's tools: named options
// (--name value or --name=value), boolean flags and positionals, with errors
// that name the offending argument.
//
//   ArgParser args("ktrun generate");
//   args.AddString("--prompt", &prompt, "TEXT", "prompt text");
//   args.AddInt("--max-tokens", &max_tokens, "N", "tokens to generate");
//   args.AddFlag("--json", &json, "machine-readable output");
//   args.AddPositional("ARTIFACT", &path);
//   if (Status s = args.Parse(argc, argv); !s.ok()) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace kt::tools {

class ArgParser {
 public:
  explicit ArgParser(std::string command) : command_(std::move(command)) {}

  void AddFlag(std::string name, bool* out, std::string help);
  void AddString(std::string name, std::string* out, std::string metavar, std::string help);
  void AddInt(std::string name, int64_t* out, std::string metavar, std::string help);
  void AddFloat(std::string name, double* out, std::string metavar, std::string help);
  // Positionals are filled in order; a missing one is an error.
  void AddPositional(std::string metavar, std::string* out, std::string help = "");

  // argv[0] is the subcommand's name. Sets help_requested() on -h/--help.
  Status Parse(int argc, char** argv);
  bool help_requested() const { return help_; }
  bool was_set(const std::string& name) const;

  // "usage: ... \n\noptions:\n  --name VALUE  help\n"
  std::string Usage() const;

 private:
  enum class Kind { kFlag, kString, kInt, kFloat };
  struct Option {
    std::string name, metavar, help;
    Kind kind;
    void* out;
    bool set = false;
  };
  struct Positional {
    std::string metavar, help;
    std::string* out;
  };
  Status Assign(Option& option, const std::string& value);

  std::string command_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
  bool help_ = false;
};

// Parses sizes such as "14GiB", "512MiB", "0.5GiB", "1e9", "0": bytes.
StatusOr<uint64_t> ParseByteSize(const std::string& text);

}  // namespace kt::tools
