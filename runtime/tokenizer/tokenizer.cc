#include "runtime/tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <utility>

#include "runtime/tokenizer/byte_unicode.h"
#include "runtime/tokenizer/utf8.h"

namespace kt::tokenizer {
namespace {

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

bool IsSpecialType(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUserDefined;
}

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(const TokenizerSpec& spec) {
  if (spec.model != "gpt2") {
    return KT_ERROR(kUnimplemented, "tokenizer model '", spec.model,
                    "' (tokenizer.ggml.model) is not supported; only 'gpt2' (byte-level BPE) is");
  }
  if (spec.tokens.empty()) return KT_ERROR(kInvalidArgument, "tokenizer has no tokens (tokenizer.ggml.tokens)");
  if (spec.tokens.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return KT_ERROR(kOutOfRange, "tokenizer has ", spec.tokens.size(), " tokens, more than int32 ids allow");
  }
  if (!spec.token_types.empty() && spec.token_types.size() != spec.tokens.size()) {
    return KT_ERROR(kInvalidArgument, "tokenizer.ggml.token_type has ", spec.token_types.size(),
                    " entries but tokenizer.ggml.tokens has ", spec.tokens.size());
  }
  const int64_t n = static_cast<int64_t>(spec.tokens.size());
  for (auto [name, id] : {std::pair<const char*, int32_t>{"bos", spec.bos}, {"eos", spec.eos}}) {
    if (id < -1 || id >= n) {
      return KT_ERROR(kOutOfRange, "tokenizer ", name, " id ", id, " is outside [0, ", n, ")");
    }
  }
  if (spec.add_bos && spec.bos < 0) {
    return KT_ERROR(kInvalidArgument, "tokenizer.ggml.add_bos_token is true but there is no bos token id");
  }
  KT_ASSIGN_OR_RETURN(std::unique_ptr<PreTokenizer> pre, PreTokenizer::Create(spec.pre));

  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->pre_ = std::move(pre);
  tok->bos_ = spec.bos;
  tok->eos_ = spec.eos;
  tok->add_bos_ = spec.add_bos;
  tok->texts_ = spec.tokens;
  tok->types_.resize(spec.tokens.size(), TokenType::kNormal);
  tok->decoded_.resize(spec.tokens.size());
  tok->by_text_.reserve(spec.tokens.size());
  for (int32_t id = 0; id < n; ++id) {
    if (!spec.token_types.empty()) {
      const int32_t t = spec.token_types[id];
      if (t < 1 || t > 6) {
        return KT_ERROR(kInvalidArgument, "tokenizer.ggml.token_type[", id, "] = ", t, " is not a token type (1..6)");
      }
      tok->types_[id] = static_cast<TokenType>(t);
    }
    // Later duplicates win, as in llama.cpp's text-to-token map.
    tok->by_text_[spec.tokens[id]] = id;
    if (tok->types_[id] == TokenType::kNormal) AppendByteDecoded(spec.tokens[id], &tok->decoded_[id]);
    if (IsSpecialType(tok->types_[id]) && !spec.tokens[id].empty()) tok->specials_.push_back(id);
  }
  // Longer specials are cut out first, so one that contains another wins.
  std::stable_sort(tok->specials_.begin(), tok->specials_.end(), [&](int32_t a, int32_t b) {
    return tok->texts_[a].size() > tok->texts_[b].size();
  });
  for (int b = 0; b < 256; ++b) tok->byte_token_[b] = tok->Find(ByteToUnicode(static_cast<uint8_t>(b)));

  tok->merges_.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const std::string& m = spec.merges[rank];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos || space + 1 >= m.size()) {
      return KT_ERROR(kInvalidArgument, "tokenizer.ggml.merges[", rank, "] = '", m, "' is not 'left right'");
    }
    const std::string_view left(m.data(), space), right(m.data() + space + 1, m.size() - space - 1);
    joined.assign(left);
    joined.append(right);
    const int32_t l = tok->Find(left), r = tok->Find(right), result = tok->Find(joined);
    // A merge whose parts or result are not tokens can never produce a token;
    // Hugging Face refuses such files, llama.cpp ignores the merge's effect.
    if (l < 0 || r < 0 || result < 0) continue;
    tok->merges_.emplace(PairKey(l, r), Merge{static_cast<int32_t>(rank), result});  // first (lowest) rank wins
  }
  return tok;
}

int32_t Tokenizer::Find(std::string_view text) const {
  auto it = by_text_.find(std::string(text));
  return it == by_text_.end() ? -1 : it->second;
}

void Tokenizer::AppendBpe(std::string_view word, std::vector<int32_t>* out) const {
  const int n = static_cast<int>(word.size());
  std::vector<int32_t> id(n);
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    id[i] = byte_token_[static_cast<uint8_t>(word[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank;
    int left;
    int right;
    int32_t left_id;
    int32_t right_id;
    int32_t result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto consider = [&](int left, int right) {
    if (left < 0 || right < 0 || id[left] < 0 || id[right] < 0) return;
    auto it = merges_.find(PairKey(id[left], id[right]));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, id[left], id[right], it->second.result});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    // Stale if either side has been merged since the candidate was queued.
    if (next[c.left] != c.right || id[c.left] != c.left_id || id[c.right] != c.right_id) continue;
    id[c.left] = c.result;
    id[c.right] = -2;
    next[c.left] = next[c.right];
    if (next[c.right] >= 0) prev[next[c.right]] = c.left;
    consider(prev[c.left], c.left);
    consider(c.left, next[c.left]);
  }
  // A byte without a single-byte token (only in malformed vocabularies) is
  // dropped, as llama.cpp does.
  for (int i = 0; i >= 0 && i < n; i = next[i]) {
    if (id[i] >= 0) out->push_back(id[i]);
  }
}

Status Tokenizer::AppendSpecialSplit(std::string_view text, bool parse_special, std::vector<int32_t>* out,
                                     std::unordered_map<std::string, std::vector<int32_t>>* cache) const {
  struct Fragment {
    int32_t id;  // -1: plain text
    size_t begin, size;
  };
  std::vector<Fragment> fragments{{-1, 0, text.size()}};
  bool present[256] = {};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;
  std::vector<Fragment> next;
  for (int32_t special : specials_) {
    if (!parse_special && types_[special] != TokenType::kUserDefined) continue;
    const std::string& needle = texts_[special];
    if (!present[static_cast<uint8_t>(needle[0])]) continue;
    next.clear();
    bool found = false;
    for (const Fragment& f : fragments) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view hay = text.substr(f.begin, f.size);
      size_t start = 0;
      for (size_t pos; (pos = hay.find(needle, start)) != std::string_view::npos; start = pos + needle.size()) {
        if (pos > start) next.push_back({-1, f.begin + start, pos - start});
        next.push_back({special, f.begin + pos, needle.size()});
        found = true;
      }
      if (start < hay.size()) next.push_back({-1, f.begin + start, hay.size() - start});
    }
    if (found) fragments.swap(next);
  }

  std::vector<std::string_view> words;
  for (const Fragment& f : fragments) {
    if (f.id >= 0) {
      out->push_back(f.id);
      continue;
    }
    words.clear();
    KT_RETURN_IF_ERROR(pre_->Split(text.substr(f.begin, f.size), &words));
    std::string key;
    for (std::string_view word : words) {
      key.assign(word);
      auto it = cache->find(key);
      if (it == cache->end()) {
        std::vector<int32_t> ids;
        AppendBpe(word, &ids);
        it = cache->emplace(key, std::move(ids)).first;
      }
      out->insert(out->end(), it->second.begin(), it->second.end());
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  const size_t bad = FindInvalidUtf8(text);
  if (bad != text.size()) {
    return KT_ERROR(kInvalidArgument, "text to tokenize is not valid UTF-8 at byte ", bad, " (of ", text.size(), ")");
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_bos) {
    if (bos_ < 0) return KT_ERROR(kFailedPrecondition, "add_bos requested but the tokenizer has no bos token");
    ids.push_back(bos_);
  }
  std::unordered_map<std::string, std::vector<int32_t>> cache;
  KT_RETURN_IF_ERROR(AppendSpecialSplit(text, options.parse_special, &ids, &cache));
  return ids;
}

StatusOr<std::string> Tokenizer::TokenBytes(int32_t id, bool render_special) const {
  if (id < 0 || id >= n_tokens()) return KT_ERROR(kOutOfRange, "token id ", id, " is outside [0, ", n_tokens(), ")");
  switch (types_[id]) {
    case TokenType::kNormal:
      return decoded_[id];
    case TokenType::kUserDefined:
      return texts_[id];
    case TokenType::kControl:
    case TokenType::kUnknown:
      return render_special ? texts_[id] : std::string();
    case TokenType::kUnused:
    case TokenType::kByte:
      break;
  }
  return std::string();
}

StatusOr<std::string> Tokenizer::Decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  for (int32_t id : ids) {
    KT_ASSIGN_OR_RETURN(std::string piece, TokenBytes(id, render_special));
    out += piece;
  }
  return out;
}

StatusOr<std::string> StreamDecoder::Push(int32_t id) {
  KT_ASSIGN_OR_RETURN(std::string piece, tokenizer_.TokenBytes(id, render_special_));
  pending_ += piece;
  // Hold back a trailing lead byte plus continuation bytes that are still
  // short of the length the lead byte announces.
  size_t keep = 0;
  for (size_t back = 1; back <= 4 && back <= pending_.size(); ++back) {
    const uint8_t c = static_cast<uint8_t>(pending_[pending_.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation: look further back
    const size_t len = Utf8SequenceLength(c);
    if (len > back) keep = back;
    break;
  }
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string StreamDecoder::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace kt::tokenizer
