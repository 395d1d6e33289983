#include "compiler/Transforms/PlacementRules.h"

#include <fstream>
#include <set>
#include <sstream>

#include "yaml-cpp/yaml.h"

namespace kt {
namespace {

// yaml-cpp marks are 0-based; editors and compilers count from 1.
std::string At(const std::string &path, const YAML::Mark &mark) {
  if (mark.is_null()) return path;
  return path + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

template <typename... Args>
Status ErrorAt(const std::string &path, const YAML::Mark &mark, Args &&...args) {
  return KT_ERROR(kInvalidArgument, At(path, mark), ": ", std::forward<Args>(args)...);
}

StatusOr<std::string> Scalar(const std::string &path, const YAML::Node &key, const YAML::Node &value) {
  if (!value.IsScalar())
    return ErrorAt(path, value.Mark(), "'", key.Scalar(), "' must be a string");
  return value.Scalar();
}

Status ParseDevice(const std::string &path, const YAML::Node &node, const std::string &text,
                   PlacementRule *rule) {
  rule->device = text;
  if (text == "cpu") return Status::Ok();
  rule->gpu = true;
  if (text == "gpu") return Status::Ok();
  const std::string prefix = "cuda:";
  if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size() && text.size() <= prefix.size() + 3 &&
      text.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
    rule->cuda_ordinal = static_cast<unsigned>(std::stoul(text.substr(prefix.size())));
    return Status::Ok();
  }
  return ErrorAt(path, node.Mark(), "unknown device '", text, "' (expected cpu, gpu or cuda:N)");
}

StatusOr<PlacementRule> ParseRule(const std::string &path, const YAML::Node &item) {
  if (!item.IsMap())
    return ErrorAt(path, item.Mark(),
                   "a rule must be a mapping with match or tensor, and device (e.g. `- match: \"blk\\\\.0\\\\.attn\"`)");
  PlacementRule rule;
  rule.line = item.Mark().line + 1;
  rule.column = item.Mark().column + 1;
  std::optional<YAML::Node> pattern_node, device_node;
  std::set<std::string> seen;
  for (const auto &entry : item) {
    const YAML::Node &key = entry.first;
    const YAML::Node &value = entry.second;
    const std::string name = key.IsScalar() ? key.Scalar() : "";
    if (!seen.insert(name).second) return ErrorAt(path, key.Mark(), "'", name, "' appears twice in one rule");
    if (name == "match" || name == "tensor") {
      if (pattern_node)
        return ErrorAt(path, key.Mark(), "a rule has both match and tensor; use one per rule");
      KT_ASSIGN_OR_RETURN(rule.pattern, Scalar(path, key, value));
      rule.on_tensor = name == "tensor";
      pattern_node = value;
    } else if (name == "device") {
      KT_ASSIGN_OR_RETURN(std::string device, Scalar(path, key, value));
      KT_RETURN_IF_ERROR(ParseDevice(path, value, device, &rule));
      device_node = value;
    } else if (name == "kernel") {
      KT_ASSIGN_OR_RETURN(rule.kernel, Scalar(path, key, value));
    } else if (name == "layout") {
      KT_ASSIGN_OR_RETURN(rule.layout, Scalar(path, key, value));
      if (rule.layout != "ggml")
        return ErrorAt(path, value.Mark(), "layout '", rule.layout,
                       "' is unsupported (only ggml is accepted now)");
    } else {
      return ErrorAt(path, key.Mark(), "unknown key '", name,
                     "' in a rule (expected match, tensor, device, kernel, layout)");
    }
  }
  if (!pattern_node)
    return ErrorAt(path, item.Mark(), "a rule needs match (an op name regex) or tensor (a tensor name regex)");
  if (!device_node) return ErrorAt(path, item.Mark(), "a rule needs device (cpu, gpu or cuda:N)");
  try {
    rule.regex = std::regex(rule.pattern, std::regex::ECMAScript);
  } catch (const std::regex_error &e) {
    return ErrorAt(path, pattern_node->Mark(), "bad regex \"", rule.pattern, "\": ", e.what());
  }
  return rule;
}

}  // namespace

std::string PlacementRule::Describe() const {
  return std::string(on_tensor ? "tensor" : "match") + " \"" + pattern + "\"";
}

StatusOr<PlacementRules> ParsePlacementRules(const std::string &text, const std::string &path) {
  PlacementRules out;
  out.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    return ErrorAt(path, e.mark, "malformed YAML: ", e.msg);
  }
  if (root.IsNull()) return out;  // an empty file: no rules
  if (!root.IsSequence())
    return ErrorAt(path, root.Mark(), "the rules file must be a YAML list of rules (`- match: ...`)");
  try {
    for (const YAML::Node &item : root) {
      KT_ASSIGN_OR_RETURN(PlacementRule rule, ParseRule(path, item));
      out.rules.push_back(std::move(rule));
    }
  } catch (const YAML::Exception &e) {  // yaml-cpp throws on unexpected node kinds
    return ErrorAt(path, e.mark, e.msg);
  }
  return out;
}

StatusOr<PlacementRules> LoadPlacementRules(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return KT_ERROR(kNotFound, path, ": cannot read rules file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return KT_ERROR(kIoError, path, ": error reading rules file");
  return ParsePlacementRules(text.str(), path);
}

}  // namespace kt
