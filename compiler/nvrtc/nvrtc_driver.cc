#include "compiler/nvrtc/nvrtc_driver.h"

#include <nvrtc.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace kt::nvrtc {
namespace {

// Two independent FNV-1a 64-bit lanes: a 128-bit key, enough to make
// accidental collisions between cache entries a non-issue.
struct Hasher {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  void Bytes(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      a = (a ^ c[i]) * 0x100000001b3ull;
      b = (b ^ c[i] ^ 0x5a) * 0x100000001b3ull;
    }
  }
  void Field(const std::string& s) {  // length-prefixed: no ambiguity between fields
    const uint64_t n = s.size();
    Bytes(&n, sizeof n);
    Bytes(s.data(), s.size());
  }
  std::string Hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return buf;
  }
};

std::vector<std::string> Options(const CompileRequest& r) {
  std::vector<std::string> o = {"--gpu-architecture=" + r.arch, "--std=c++17", "-default-device"};
  for (const auto& d : r.defines) o.push_back("-D" + d);
  for (const auto& e : r.extra_options) o.push_back(e);
  return o;
}

Status NvrtcError(nvrtcResult res, const char* what) {
  return KT_ERROR(kInternal, "NVRTC ", what, " failed: ", nvrtcGetErrorString(res));
}

StatusOr<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return KT_ERROR(kNotFound, "cannot open ", p.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return KT_ERROR(kIoError, "cannot read ", p.string());
  return s.str();
}

Status WriteFileAtomic(const std::filesystem::path& p, const std::string& data) {
  const std::filesystem::path tmp = p.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return KT_ERROR(kIoError, "cannot create ", tmp.string());
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return KT_ERROR(kIoError, "cannot write ", tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) return KT_ERROR(kIoError, "cannot rename ", tmp.string(), " to ", p.string(), ": ", ec.message());
  return Status::Ok();
}

// Cache entry: <key>.cubin, <key>.ptx, <key>.names ("expr\tmangled" lines)
// and <key>.done, written last, so a half-written entry is never used.
bool LoadCached(const std::filesystem::path& dir, const std::string& key, const CompileRequest& r,
                CompileResult* out) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / (key + ".done"), ec)) return false;
  auto cubin = ReadFile(dir / (key + ".cubin"));
  auto ptx = ReadFile(dir / (key + ".ptx"));
  auto names = ReadFile(dir / (key + ".names"));
  if (!cubin.ok() || !ptx.ok() || !names.ok() || cubin->size() < 4 || cubin->compare(0, 4, "\x7f" "ELF") != 0)
    return false;
  std::map<std::string, std::string> lowered;
  std::istringstream in(*names);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return false;
    lowered[line.substr(0, tab)] = line.substr(tab + 1);
  }
  for (const auto& e : r.name_expressions)
    if (!lowered.count(e)) return false;
  out->key = key;
  out->from_cache = true;
  out->ptx = std::move(*ptx);
  out->cubin.assign(cubin->begin(), cubin->end());
  out->lowered_names = std::move(lowered);
  return true;
}

}  // namespace

std::string CacheKey(const CompileRequest& r) {
  Hasher h;
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  h.Field("kt-nvrtc-1 " + std::to_string(major) + "." + std::to_string(minor));
  for (const auto& o : Options(r)) h.Field(o);
  h.Field(r.source_name);
  h.Field(r.source);
  for (const auto& hd : r.headers) {
    h.Field(hd.name);
    h.Field(hd.content);
  }
  for (const auto& e : r.name_expressions) h.Field(e);
  return h.Hex();
}

StatusOr<std::vector<Header>> ReadHeaders(const std::string& root, const std::vector<std::string>& names) {
  std::vector<Header> out;
  for (const auto& n : names) {
    KT_ASSIGN_OR_RETURN(std::string text, ReadFile(std::filesystem::path(root) / n));
    out.push_back({n, std::move(text)});
  }
  return out;
}

StatusOr<CompileResult> Compile(const CompileRequest& r) {
  if (r.arch.rfind("sm_", 0) != 0)
    return KT_ERROR(kInvalidArgument, "NVRTC target '", r.arch, "' is not a real architecture (sm_XX)");
  CompileResult result;
  result.key = CacheKey(r);
  const std::filesystem::path dir = r.cache_dir;
  if (!r.cache_dir.empty() && LoadCached(dir, result.key, r, &result)) return result;

  std::vector<const char*> hdr_src, hdr_name;
  for (const auto& h : r.headers) {
    hdr_src.push_back(h.content.c_str());
    hdr_name.push_back(h.name.c_str());
  }
  nvrtcProgram prog;
  nvrtcResult res = nvrtcCreateProgram(&prog, r.source.c_str(), r.source_name.c_str(),
                                       static_cast<int>(hdr_src.size()), hdr_src.data(), hdr_name.data());
  if (res != NVRTC_SUCCESS) return NvrtcError(res, "create program");
  struct Guard {
    nvrtcProgram* p;
    ~Guard() { nvrtcDestroyProgram(p); }
  } guard{&prog};
  for (const auto& e : r.name_expressions)
    if ((res = nvrtcAddNameExpression(prog, e.c_str())) != NVRTC_SUCCESS) return NvrtcError(res, "add name expression");
  const std::vector<std::string> opts = Options(r);
  std::vector<const char*> copts;
  for (const auto& o : opts) copts.push_back(o.c_str());
  const nvrtcResult compiled = nvrtcCompileProgram(prog, static_cast<int>(copts.size()), copts.data());
  size_t log_size = 0;
  if (nvrtcGetProgramLogSize(prog, &log_size) == NVRTC_SUCCESS && log_size > 1) {
    result.log.resize(log_size);
    nvrtcGetProgramLog(prog, result.log.data());
    result.log.resize(log_size - 1);
  }
  if (compiled != NVRTC_SUCCESS)
    return KT_ERROR(kInvalidArgument, "NVRTC could not compile ", r.source_name, " for ", r.arch, ":\n", result.log);
  size_t n = 0;
  if ((res = nvrtcGetCUBINSize(prog, &n)) != NVRTC_SUCCESS) return NvrtcError(res, "get cubin size");
  result.cubin.resize(n);
  if ((res = nvrtcGetCUBIN(prog, reinterpret_cast<char*>(result.cubin.data()))) != NVRTC_SUCCESS)
    return NvrtcError(res, "get cubin");
  if ((res = nvrtcGetPTXSize(prog, &n)) != NVRTC_SUCCESS) return NvrtcError(res, "get PTX size");
  result.ptx.resize(n);
  if ((res = nvrtcGetPTX(prog, result.ptx.data())) != NVRTC_SUCCESS) return NvrtcError(res, "get PTX");
  if (!result.ptx.empty() && result.ptx.back() == '\0') result.ptx.pop_back();
  std::string names;
  for (const auto& e : r.name_expressions) {
    const char* lowered = nullptr;
    if ((res = nvrtcGetLoweredName(prog, e.c_str(), &lowered)) != NVRTC_SUCCESS) return NvrtcError(res, "get lowered name");
    result.lowered_names[e] = lowered;
    names += e + "\t" + lowered + "\n";
  }
  if (!r.cache_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return KT_ERROR(kIoError, "cannot create NVRTC cache directory ", dir.string(), ": ", ec.message());
    KT_RETURN_IF_ERROR(WriteFileAtomic(dir / (result.key + ".cubin"),
                                       std::string(result.cubin.begin(), result.cubin.end())));
    KT_RETURN_IF_ERROR(WriteFileAtomic(dir / (result.key + ".ptx"), result.ptx));
    KT_RETURN_IF_ERROR(WriteFileAtomic(dir / (result.key + ".names"), names));
    KT_RETURN_IF_ERROR(WriteFileAtomic(dir / (result.key + ".done"), ""));
  }
  return result;
}

}  // namespace kt::nvrtc
