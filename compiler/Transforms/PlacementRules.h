// Placement rules: a YAML list that pins ops to a device, read by
// kt-place-ops (option rules=FILE). The first rule that matches an op wins.
//
//   - match: "blk\\.[0-9]+\\.experts"   # ECMAScript regex, full match on the op name
//     device: cpu                        # cpu | gpu (the plan's GPU) | cuda:N
//   - tensor: "output\\.weight"          # or: a GGUF tensor name the op uses
//     device: gpu
//     kernel: my_gemv                    # optional, recorded in the op's reason
//     layout: ggml                       # optional; ggml is the only layout now
//
// Errors name the file, line and column (1-based) of what is wrong.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace kt {

struct PlacementRule {
  bool on_tensor = false;  // `tensor:` (GGUF tensor names) instead of `match:` (op names)
  std::string pattern;
  std::regex regex;
  bool gpu = false;
  std::optional<unsigned> cuda_ordinal;  // cuda:N; unset for `gpu` and `cpu`
  std::string device;                    // as written
  std::string kernel;                    // "" when absent
  std::string layout;                    // "" when absent, else "ggml"
  int line = 0, column = 0;              // of the rule's first key, 1-based

  bool Matches(const std::string &name) const { return std::regex_match(name, regex); }
  // `match "blk\.[0-9]+\.experts"` or `tensor "output\.weight"`
  std::string Describe() const;
};

struct PlacementRules {
  std::string path;  // as given; rules are cited as path:line
  std::vector<PlacementRule> rules;

  std::string Where(const PlacementRule &rule) const { return path + ":" + std::to_string(rule.line); }
};

// `path` only names the source in messages.
StatusOr<PlacementRules> ParsePlacementRules(const std::string &text, const std::string &path);
StatusOr<PlacementRules> LoadPlacementRules(const std::string &path);

}  // namespace kt
