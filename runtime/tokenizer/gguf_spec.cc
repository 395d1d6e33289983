#include "runtime/tokenizer/gguf_spec.h"

#include "compiler/gguf/gguf.h"

namespace kt::tokenizer {
namespace {

using gguf::GgufFile;
using gguf::GgufType;
using gguf::GgufValue;

StatusOr<const GgufValue*> FindArray(const GgufFile& file, const char* key, GgufType elem, bool required) {
  const GgufValue* v = file.Find(key);
  if (v == nullptr) {
    if (required) return KT_ERROR(kNotFound, file.name(), ": missing key ", key);
    return static_cast<const GgufValue*>(nullptr);
  }
  if (v->type != GgufType::kArray || v->elem_type != elem) {
    return KT_ERROR(kInvalidArgument, file.name(), ": ", key, " is not an array of ", gguf::GgufTypeName(elem));
  }
  return v;
}

StatusOr<int32_t> OptionalId(const GgufFile& file, const char* key) {
  const GgufValue* v = file.Find(key);
  if (v == nullptr) return -1;
  KT_ASSIGN_OR_RETURN(uint64_t id, v->AsUint(key));
  if (id > 0x7FFFFFFF) return KT_ERROR(kOutOfRange, file.name(), ": ", key, " = ", id, " is too large");
  return static_cast<int32_t>(id);
}

}  // namespace

StatusOr<TokenizerSpec> ReadTokenizerSpecFromGguf(const std::string& path) {
  KT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
  TokenizerSpec spec;
  KT_ASSIGN_OR_RETURN(spec.model, file.GetString("tokenizer.ggml.model"));
  if (file.Find("tokenizer.ggml.pre") != nullptr) {
    KT_ASSIGN_OR_RETURN(spec.pre, file.GetString("tokenizer.ggml.pre"));
  }
  KT_ASSIGN_OR_RETURN(const GgufValue* tokens, FindArray(file, "tokenizer.ggml.tokens", GgufType::kString, true));
  spec.tokens.reserve(tokens->elems.size());
  for (const GgufValue& e : tokens->elems) spec.tokens.push_back(e.str);
  KT_ASSIGN_OR_RETURN(const GgufValue* types, FindArray(file, "tokenizer.ggml.token_type", GgufType::kInt32, false));
  if (types != nullptr) {
    spec.token_types.reserve(types->elems.size());
    for (const GgufValue& e : types->elems) spec.token_types.push_back(static_cast<int32_t>(e.i));
  }
  KT_ASSIGN_OR_RETURN(const GgufValue* merges, FindArray(file, "tokenizer.ggml.merges", GgufType::kString, false));
  if (merges != nullptr) {
    spec.merges.reserve(merges->elems.size());
    for (const GgufValue& e : merges->elems) spec.merges.push_back(e.str);
  }
  KT_ASSIGN_OR_RETURN(spec.bos, OptionalId(file, "tokenizer.ggml.bos_token_id"));
  KT_ASSIGN_OR_RETURN(spec.eos, OptionalId(file, "tokenizer.ggml.eos_token_id"));
  if (file.Find("tokenizer.ggml.add_bos_token") != nullptr) {
    KT_ASSIGN_OR_RETURN(spec.add_bos, file.GetBool("tokenizer.ggml.add_bos_token"));
  }
  return spec;
}

}  // namespace kt::tokenizer
