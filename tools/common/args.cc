#include "tools/common/args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace kt::tools {

void ArgParser::AddFlag(std::string name, bool* out, std::string help) {
  options_.push_back({std::move(name), "", std::move(help), Kind::kFlag, out});
}
void ArgParser::AddString(std::string name, std::string* out, std::string metavar, std::string help) {
  options_.push_back({std::move(name), std::move(metavar), std::move(help), Kind::kString, out});
}
void ArgParser::AddInt(std::string name, int64_t* out, std::string metavar, std::string help) {
  options_.push_back({std::move(name), std::move(metavar), std::move(help), Kind::kInt, out});
}
void ArgParser::AddFloat(std::string name, double* out, std::string metavar, std::string help) {
  options_.push_back({std::move(name), std::move(metavar), std::move(help), Kind::kFloat, out});
}
void ArgParser::AddPositional(std::string metavar, std::string* out, std::string help) {
  positionals_.push_back({std::move(metavar), std::move(help), out});
}

bool ArgParser::was_set(const std::string& name) const {
  for (const Option& o : options_)
    if (o.name == name) return o.set;
  return false;
}

Status ArgParser::Assign(Option& o, const std::string& value) {
  o.set = true;
  switch (o.kind) {
    case Kind::kFlag: return Status::Ok();
    case Kind::kString: *static_cast<std::string*>(o.out) = value; return Status::Ok();
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE)
        return KT_ERROR(kInvalidArgument, command_, ": ", o.name, " expects an integer, got '", value, "'");
      *static_cast<int64_t*>(o.out) = v;
      return Status::Ok();
    }
    case Kind::kFloat: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
        return KT_ERROR(kInvalidArgument, command_, ": ", o.name, " expects a number, got '", value, "'");
      *static_cast<double*>(o.out) = v;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status ArgParser::Parse(int argc, char** argv) {
  size_t next_positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      return Status::Ok();
    }
    if (arg.size() > 1 && arg[0] == '-' && !(arg.size() > 1 && (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.'))) {
      std::string name = arg, value;
      bool has_value = false;
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
      Option* option = nullptr;
      for (Option& o : options_)
        if (o.name == name) option = &o;
      if (option == nullptr)
        return KT_ERROR(kInvalidArgument, command_, ": unknown option '", name, "' (see --help)");
      if (option->kind == Kind::kFlag) {
        if (has_value) return KT_ERROR(kInvalidArgument, command_, ": ", name, " takes no value");
        *static_cast<bool*>(option->out) = true;
        option->set = true;
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) return KT_ERROR(kInvalidArgument, command_, ": ", name, " needs a value (", option->metavar, ")");
        value = argv[++i];
      }
      KT_RETURN_IF_ERROR(Assign(*option, value));
      continue;
    }
    if (next_positional >= positionals_.size())
      return KT_ERROR(kInvalidArgument, command_, ": unexpected argument '", arg, "'");
    *positionals_[next_positional++].out = arg;
  }
  if (next_positional < positionals_.size())
    return KT_ERROR(kInvalidArgument, command_, ": missing ", positionals_[next_positional].metavar, " (see --help)");
  return Status::Ok();
}

std::string ArgParser::Usage() const {
  std::string s = "usage: " + command_;
  for (const Positional& p : positionals_) s += " " + p.metavar;
  s += " [options]\n\noptions:\n";
  for (const Option& o : options_) {
    std::string left = "  " + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    if (left.size() < 26) left.resize(26, ' ');
    else left += "  ";
    s += left + o.help + "\n";
  }
  s += "  -h, --help              show this help\n";
  return s;
}

StatusOr<uint64_t> ParseByteSize(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str() || errno == ERANGE || !std::isfinite(value) || value < 0)
    return KT_ERROR(kInvalidArgument, "'", text, "' is not a size (examples: 0, 512MiB, 14GiB, 1.5GB)");
  const std::string unit = end;
  double scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KiB" || unit == "K") scale = 1024.0;
  else if (unit == "MiB" || unit == "M") scale = 1024.0 * 1024;
  else if (unit == "GiB" || unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "TiB" || unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "KB") scale = 1e3;
  else if (unit == "MB") scale = 1e6;
  else if (unit == "GB") scale = 1e9;
  else if (unit == "TB") scale = 1e12;
  else return KT_ERROR(kInvalidArgument, "'", text, "': unknown unit '", unit, "' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
  const double bytes = value * scale;
  if (bytes > 1.8e19) return KT_ERROR(kOutOfRange, "'", text, "' is too large");
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace kt::tools
