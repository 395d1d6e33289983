#include "runtime/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "runtime/tokenizer/gguf_spec.h"
#include "runtime/tokenizer/utf8.h"

namespace kt::tokenizer {
namespace {

const std::string kVocab = std::string(KT_TEST_DATA_DIR) + "/tokenizer/ggml-vocab-deepseek-llm.gguf";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DeepSeekLlmVocab : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto spec = ReadTokenizerSpecFromGguf(kVocab);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto tok = Tokenizer::Create(*spec);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = std::move(tok).value().release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  std::vector<int32_t> Encode(std::string_view text, EncodeOptions options = {}) {
    auto ids = tok_->Encode(text, options);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<int32_t>{};
  }
  static Tokenizer* tok_;
};
Tokenizer* DeepSeekLlmVocab::tok_ = nullptr;

// The reference vectors: strings separated by "\n__ggml_vocab_test__\n", and
// one line of ids per string, made by the Hugging Face tokenizer.
TEST_F(DeepSeekLlmVocab, MatchesReferenceVectors) {
  const std::string inp = ReadFile(kVocab + ".inp");
  const std::string out = ReadFile(kVocab + ".out");
  ASSERT_FALSE(inp.empty());
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t start = 0, pos; (pos = inp.find(sep, start)) != std::string::npos; start = pos + sep.size()) {
    texts.push_back(inp.substr(start, pos - start));
  }
  std::vector<std::vector<int32_t>> expected;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream nums(line);
    std::vector<int32_t> ids;
    for (int32_t id; nums >> id;) ids.push_back(id);
    expected.push_back(ids);
  }
  ASSERT_EQ(texts.size(), expected.size());
  ASSERT_GT(texts.size(), 40u);
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(Encode(texts[i]), expected[i]) << "vector " << i << ": '" << texts[i] << "'";
    auto decoded = tok_->Decode(expected[i]);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, texts[i]) << "round trip of vector " << i;
  }
}

TEST_F(DeepSeekLlmVocab, BosAndSpecialTokens) {
  const int32_t bos = tok_->bos();
  ASSERT_EQ(bos, 100000);
  EXPECT_TRUE(tok_->add_bos());
  const std::vector<int32_t> plain = Encode("Hello");
  std::vector<int32_t> with_bos = Encode("Hello", {.add_bos = true});
  ASSERT_EQ(with_bos.size(), plain.size() + 1);
  EXPECT_EQ(with_bos[0], bos);

  const std::string text = "<｜begin▁of▁sentence｜>Hi<｜end▁of▁sentence｜>";
  const std::vector<int32_t> special = Encode(text, {.parse_special = true});
  ASSERT_GE(special.size(), 3u);
  EXPECT_EQ(special.front(), bos);
  EXPECT_EQ(special.back(), tok_->eos());
  // Without parse_special the markers are ordinary text.
  const std::vector<int32_t> literal = Encode(text);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), bos), 0);
  EXPECT_GT(literal.size(), special.size());
  EXPECT_EQ(*tok_->Decode(literal), text);
  // Control tokens are rendered only on request.
  EXPECT_EQ(*tok_->Decode(special), "Hi");
  EXPECT_EQ(*tok_->Decode(special, /*render_special=*/true), text);
}

TEST_F(DeepSeekLlmVocab, RoundTripMixedText) {
  const std::string text =
      "The quick brown fox 123456789 jumps.\n\n\t中文测试，日本語のテキスト、한국어 텍스트 🦙🚀 "
      "def f(x):\r\n    return x ** 2  # comment\n   \n";
  EXPECT_EQ(*tok_->Decode(Encode(text)), text);
}

TEST_F(DeepSeekLlmVocab, StreamDecoderHoldsSplitCharacters) {
  const std::string text = "llama 🦙 and 🚀, 中文 ok";
  const std::vector<int32_t> ids = Encode(text);
  bool saw_partial_piece = false;
  StreamDecoder stream(*tok_);
  std::string joined;
  for (int32_t id : ids) {
    const std::string piece = *tok_->TokenBytes(id);
    if (FindInvalidUtf8(piece) != piece.size()) saw_partial_piece = true;
    auto chunk = stream.Push(id);
    ASSERT_TRUE(chunk.ok());
    EXPECT_EQ(FindInvalidUtf8(*chunk), chunk->size()) << "chunk is not whole UTF-8";
    joined += *chunk;
  }
  joined += stream.Flush();
  EXPECT_TRUE(saw_partial_piece) << "test text no longer splits a character across tokens";
  EXPECT_EQ(joined, text);
}

TEST_F(DeepSeekLlmVocab, RejectsBadInput) {
  auto bad = tok_->Encode("ab\xC3(");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("byte 2"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(tok_->TokenBytes(-1).ok());
  EXPECT_FALSE(tok_->TokenBytes(tok_->n_tokens()).ok());
}

TEST_F(DeepSeekLlmVocab, Throughput100KB) {
  const std::string unit =
      "DeepSeek-V3 is a Mixture-of-Experts model with 671B parameters, 37B active per token. "
      "混合专家模型在推理时只激活少量专家。 数字 3.14159265358979 and code: for (int i = 0; i < n; ++i) {}\n";
  std::string text;
  while (text.size() < 100 * 1024) text += unit + std::to_string(text.size()) + " ";
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = Encode(text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("encoded %zu bytes into %zu tokens in %.1f ms\n", text.size(), ids.size(), seconds * 1e3);
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(*tok_->Decode(ids), text);
}

TEST(TokenizerSpecChecks, RejectsBadSpecs) {
  TokenizerSpec spec;
  spec.model = "gpt2";
  spec.pre = "deepseek-v3";
  spec.tokens = {"a", "b", "ab"};
  spec.merges = {"a b"};
  ASSERT_TRUE(Tokenizer::Create(spec).ok());

  TokenizerSpec s = spec;
  s.model = "llama";
  EXPECT_EQ(Tokenizer::Create(s).status().code(), StatusCode::kUnimplemented);
  s = spec;
  s.pre = "gpt-4o";
  auto r = Tokenizer::Create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("deepseek-llm, deepseek-v3"), std::string::npos) << r.status().ToString();
  s = spec;
  s.token_types = {1, 1};
  EXPECT_FALSE(Tokenizer::Create(s).ok());
  s = spec;
  s.token_types = {1, 9, 1};
  EXPECT_FALSE(Tokenizer::Create(s).ok());
  s = spec;
  s.bos = 3;
  EXPECT_FALSE(Tokenizer::Create(s).ok());
  s = spec;
  s.add_bos = true;
  EXPECT_FALSE(Tokenizer::Create(s).ok());
  s = spec;
  s.merges = {"ab"};
  EXPECT_FALSE(Tokenizer::Create(s).ok());
}

TEST(TokenizerSpecChecks, MergesByRankThenLeftmost) {
  // Byte-level texts: every byte needs a token; only a, b, c are used here.
  TokenizerSpec spec;
  spec.model = "gpt2";
  spec.pre = "deepseek-v3";
  spec.tokens = {"a", "b", "c", "ab", "bc", "abc", "aa"};
  spec.merges = {"b c", "a b", "a bc", "a a"};
  auto tok = Tokenizer::Create(spec);
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(*(*tok)->Encode("abc"), (std::vector<int32_t>{5}));   // b c first, then a bc
  EXPECT_EQ(*(*tok)->Encode("abab"), (std::vector<int32_t>{3, 3}));
  EXPECT_EQ(*(*tok)->Encode("aaa"), (std::vector<int32_t>{6, 0}));  // leftmost pair wins a tie
}

}  // namespace
}  // namespace kt::tokenizer
