// kt_tokenize: runs kt's tokenizer on a GGUF's tokenizer.ggml.* metadata.
// A test tool: the peer test compares its output with llama.cpp's.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/tokenizer/gguf_spec.h"
#include "runtime/tokenizer/tokenizer.h"

namespace {

constexpr const char* kHelp = R"(usage: kt_tokenize MODEL.gguf TEXT_FILE [options]

Tokenizes TEXT_FILE (UTF-8) with the tokenizer stored in MODEL.gguf and prints
the ids as JSON: a list of ids, or with --split a list of lists.

options:
  --split SEP       tokenize each part of the file between occurrences of SEP
  --parse-special   recognise control tokens written in the text
  --add-bos         prepend the BOS token
  --check-decode    also check that decoding gives back the text (exit 1 if not)
  --pieces          print the pre-tokenizer's pieces (JSON strings) instead of ids
  --bench N         tokenize N times and print the time per run to stderr
  -h, --help        this text

examples:
  kt_tokenize vocab.gguf prompt.txt
  kt_tokenize vocab.gguf corpus.txt --split $'\n@@@\n' --parse-special
  kt_tokenize model.gguf big.txt --bench 5 > /dev/null
)";

int Fail(const std::string& message) {
  std::fprintf(stderr, "kt_tokenize: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::string split;
  bool has_split = false, check_decode = false, pieces = false;
  int bench = 0;
  kt::tokenizer::EncodeOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (arg == "--split" && i + 1 < argc) {
      split = argv[++i];
      has_split = true;
    } else if (arg == "--parse-special") {
      options.parse_special = true;
    } else if (arg == "--add-bos") {
      options.add_bos = true;
    } else if (arg == "--pieces") {
      pieces = true;
    } else if (arg == "--check-decode") {
      check_decode = true;
    } else if (arg == "--bench" && i + 1 < argc) {
      bench = std::atoi(argv[++i]);
    } else if (!arg.empty() && arg[0] == '-') {
      return Fail("unknown option " + arg + " (see --help)");
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) return Fail("expected MODEL.gguf and TEXT_FILE (see --help)");
  if (has_split && split.empty()) return Fail("--split needs a non-empty separator");

  auto spec = kt::tokenizer::ReadTokenizerSpecFromGguf(positional[0]);
  if (!spec.ok()) return Fail(spec.status().ToString());
  auto tok = kt::tokenizer::Tokenizer::Create(*spec);
  if (!tok.ok()) return Fail(positional[0] + ": " + tok.status().ToString());

  std::ifstream in(positional[1], std::ios::binary);
  if (!in) return Fail("cannot open " + positional[1]);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string content = buffer.str();
  std::vector<std::string> texts;
  if (has_split) {
    size_t start = 0;
    for (size_t pos; (pos = content.find(split, start)) != std::string::npos; start = pos + split.size()) {
      texts.push_back(content.substr(start, pos - start));
    }
    texts.push_back(content.substr(start));
  } else {
    texts.push_back(content);
  }

  if (pieces) {
    auto pre = kt::tokenizer::PreTokenizer::Create(spec->pre);
    if (!pre.ok()) return Fail(pre.status().ToString());
    for (const auto& text : texts) {
      std::vector<std::string_view> parts;
      kt::Status s = (*pre)->Split(text, &parts);
      if (!s.ok()) return Fail(s.ToString());
      std::string line = "[";
      for (size_t i = 0; i < parts.size(); ++i) {
        line += i ? ", \"" : "\"";
        for (unsigned char c : parts[i]) {
          char esc[8];
          if (c < 0x20 || c == '"' || c == '\\') {
            std::snprintf(esc, sizeof(esc), "\\u%04x", c);
            line += esc;
          } else {
            line += static_cast<char>(c);
          }
        }
        line += "\"";
      }
      std::printf("%s]\n", line.c_str());
    }
    return 0;
  }

  for (int run = 0; run < bench; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    size_t n_ids = 0;
    for (const auto& text : texts) {
      auto ids = (*tok)->Encode(text, options);
      if (!ids.ok()) return Fail(ids.status().ToString());
      n_ids += ids->size();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "run %d: %zu bytes -> %zu tokens in %.2f ms (%.1f MB/s)\n", run, content.size(), n_ids,
                 s * 1e3, content.size() / s / 1e6);
  }

  std::string out = has_split ? "[" : "";
  for (size_t t = 0; t < texts.size(); ++t) {
    auto ids = (*tok)->Encode(texts[t], options);
    if (!ids.ok()) return Fail("text " + std::to_string(t) + ": " + ids.status().ToString());
    if (check_decode) {
      auto back = (*tok)->Decode(*ids);
      if (!back.ok()) return Fail(back.status().ToString());
      // BOS and parsed control tokens decode to nothing, so compare only plain encodes.
      if (!options.add_bos && !options.parse_special && *back != texts[t]) {
        return Fail("text " + std::to_string(t) + " does not survive decode(encode(x))");
      }
    }
    if (t > 0) out += ", ";
    out += "[";
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i > 0) out += ", ";
      out += std::to_string((*ids)[i]);
    }
    out += "]";
  }
  if (has_split) out += "]";
  std::printf("%s\n", out.c_str());
  return 0;
}
