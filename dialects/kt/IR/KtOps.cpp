#include "dialects/kt/IR/KtOps.h"

#include <string>

#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#define GET_OP_CLASSES
#include "dialects/kt/IR/KtOps.cpp.inc"

namespace kt {
namespace {

using mlir::failure;
using mlir::FlatSymbolRefAttr;
using mlir::LogicalResult;
using mlir::Operation;
using mlir::ShapedType;
using mlir::success;
using mlir::SymbolTableCollection;
using mlir::Value;

constexpr int64_t kAny = ShapedType::kDynamic;

std::string ShapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::interleave(
      shape, os, [&](int64_t d) { os << (d == kAny ? "?" : std::to_string(d)); },
      "x");
  return out;
}

int64_t Dim(Value value, unsigned i) {
  return llvm::cast<ShapedType>(value.getType()).getDimSize(i);
}

// Token counts (dim 0) of values that must agree, where both are static.
LogicalResult CheckTokenCounts(Operation *op, llvm::ArrayRef<Value> values) {
  int64_t tokens = kAny;
  for (Value v : values) {
    int64_t t = Dim(v, 0);
    if (t == kAny)
      continue;
    if (tokens != kAny && t != tokens)
      return op->emitOpError() << "token counts differ: " << tokens << " and "
                               << t;
    tokens = t;
  }
  return success();
}

// The kt.weight that `ref` names; null (after an error) when there is none.
QTensorType LookupWeight(Operation *op, SymbolTableCollection &symbols,
                         llvm::StringRef role, FlatSymbolRefAttr ref) {
  auto weight = symbols.lookupNearestSymbolFrom<WeightOp>(op, ref.getAttr());
  if (!weight) {
    op->emitOpError() << role << " " << ref << " does not name a kt.weight";
    return {};
  }
  return weight.getQType();
}

// Checks the shape of weight `ref` against `expected` (kAny matches any
// size); `layout` names the dimensions in the message.
LogicalResult CheckWeight(Operation *op, SymbolTableCollection &symbols,
                          llvm::StringRef role, FlatSymbolRefAttr ref,
                          llvm::ArrayRef<int64_t> expected,
                          llvm::StringRef layout, QTensorType *found = nullptr) {
  QTensorType type = LookupWeight(op, symbols, role, ref);
  if (!type)
    return failure();
  llvm::ArrayRef<int64_t> shape = type.getShape();
  bool ok = shape.size() == expected.size();
  for (size_t i = 0; ok && i < shape.size(); ++i)
    ok = expected[i] == kAny || expected[i] == shape[i];
  if (!ok)
    return op->emitOpError()
           << role << " weight " << ref << " has shape " << ShapeString(shape)
           << ", expected " << ShapeString(expected) << " (" << layout << ")";
  if (found)
    *found = type;
  return success();
}

LogicalResult CheckPositive(Operation *op, llvm::StringRef name, int64_t value) {
  if (value <= 0)
    return op->emitOpError() << name << " must be positive, got " << value;
  return success();
}

}  // namespace

//===----------------------------------------------------------------------===//
// kt.embed
//===----------------------------------------------------------------------===//

LogicalResult EmbedOp::verify() {
  return CheckTokenCounts(*this, {getTokens(), getResult()});
}

LogicalResult EmbedOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return CheckWeight(*this, symbols, "table", getTableAttr(),
                     {kAny, Dim(getResult(), 1)}, "[vocab, hidden]");
}

//===----------------------------------------------------------------------===//
// kt.rms_norm
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return CheckWeight(*this, symbols, "scale", getWeightAttr(),
                     {Dim(getInput(), 1)}, "[hidden]");
}

//===----------------------------------------------------------------------===//
// kt.mla
//===----------------------------------------------------------------------===//

LogicalResult MlaOp::verify() {
  if (failed(CheckPositive(*this, "heads", getHeads())) ||
      failed(CheckPositive(*this, "kv_lora_rank", getKvLoraRank())) ||
      failed(CheckPositive(*this, "qk_nope_head_dim", getQkNopeHeadDim())) ||
      failed(CheckPositive(*this, "qk_rope_head_dim", getQkRopeHeadDim())) ||
      failed(CheckPositive(*this, "v_head_dim", getVHeadDim())))
    return failure();
  if (getQkRopeHeadDim() % 2 != 0)
    return emitOpError() << "qk_rope_head_dim must be even (RoPE rotates pairs), got "
                         << getQkRopeHeadDim();
  if (static_cast<int64_t>(getQLoraRank()) < 0)
    return emitOpError() << "q_lora_rank must not be negative";
  bool low_rank_q = getQLoraRank() > 0;
  if (low_rank_q) {
    if (getQAttr() || !getQAAttr() || !getQANormAttr() || !getQBAttr())
      return emitOpError() << "q_lora_rank = " << getQLoraRank()
                           << " needs q_a, q_a_norm and q_b and no q";
  } else if (!getQAttr() || getQAAttr() || getQANormAttr() || getQBAttr()) {
    return emitOpError() << "q_lora_rank = 0 needs q and no q_a, q_a_norm, q_b";
  }
  bool legacy_kv = static_cast<bool>(getKvBAttr());
  bool split_kv = getKBAttr() && getVBAttr();
  if (legacy_kv == split_kv || (!split_kv && (getKBAttr() || getVBAttr())))
    return emitOpError() << "needs either kv_b or both k_b and v_b";
  if (getInput().getType() != getResult().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " differs from input type " << getInput().getType();
  return CheckTokenCounts(*this, {getInput(), getPositions()});
}

LogicalResult MlaOp::verifySymbolUses(SymbolTableCollection &symbols) {
  const int64_t hidden = Dim(getInput(), 1);
  const int64_t heads = getHeads();
  const int64_t nope = getQkNopeHeadDim();
  const int64_t rope = getQkRopeHeadDim();
  const int64_t v = getVHeadDim();
  const int64_t kv_lora = getKvLoraRank();
  const int64_t q_lora = getQLoraRank();
  const int64_t q_out = heads * (nope + rope);
  auto check = [&](llvm::StringRef role, FlatSymbolRefAttr ref,
                   llvm::ArrayRef<int64_t> shape, llvm::StringRef layout) {
    return ref ? CheckWeight(*this, symbols, role, ref, shape, layout) : success();
  };
  if (failed(check("q", getQAttr(), {q_out, hidden},
                   "[heads*(qk_nope+qk_rope), hidden]")) ||
      failed(check("q_a", getQAAttr(), {q_lora, hidden}, "[q_lora_rank, hidden]")) ||
      failed(check("q_a_norm", getQANormAttr(), {q_lora}, "[q_lora_rank]")) ||
      failed(check("q_b", getQBAttr(), {q_out, q_lora},
                   "[heads*(qk_nope+qk_rope), q_lora_rank]")) ||
      failed(check("kv_a", getKvAAttr(), {kv_lora + rope, hidden},
                   "[kv_lora_rank+qk_rope, hidden]")) ||
      failed(check("kv_a_norm", getKvANormAttr(), {kv_lora}, "[kv_lora_rank]")) ||
      failed(check("kv_b", getKvBAttr(), {heads * (nope + v), kv_lora},
                   "[heads*(qk_nope+v), kv_lora_rank]")) ||
      failed(check("k_b", getKBAttr(), {heads, kv_lora, nope},
                   "[heads, kv_lora_rank, qk_nope]")) ||
      failed(check("v_b", getVBAttr(), {heads, v, kv_lora},
                   "[heads, v, kv_lora_rank]")) ||
      failed(check("o", getOAttr(), {hidden, heads * v}, "[hidden, heads*v]")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// kt.router
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::verify() {
  const int64_t experts = getNumExperts();
  const int64_t top_k = getTopK();
  const int64_t groups = getGroups();
  const int64_t used = getGroupsUsed();
  if (failed(CheckPositive(*this, "num_experts", experts)) ||
      failed(CheckPositive(*this, "top_k", top_k)) ||
      failed(CheckPositive(*this, "groups", groups)) ||
      failed(CheckPositive(*this, "groups_used", used)))
    return failure();
  if (top_k > experts)
    return emitOpError() << "top_k " << top_k << " exceeds num_experts " << experts;
  if (experts % groups != 0)
    return emitOpError() << "groups " << groups << " does not divide num_experts "
                         << experts;
  if (used > groups)
    return emitOpError() << "groups_used " << used << " exceeds groups " << groups;
  if (top_k > used * (experts / groups))
    return emitOpError() << "top_k " << top_k << " exceeds the "
                         << used * (experts / groups) << " experts in "
                         << used << " of " << groups << " groups";
  for (Value result : {getWeights(), getIds()}) {
    if (Dim(result, 1) != top_k)
      return emitOpError() << "results must have top_k = " << top_k
                           << " columns, got " << result.getType();
  }
  return CheckTokenCounts(*this, {getInput(), getWeights(), getIds()});
}

LogicalResult RouterOp::verifySymbolUses(SymbolTableCollection &symbols) {
  const int64_t experts = getNumExperts();
  if (failed(CheckWeight(*this, symbols, "gate", getWeightAttr(),
                         {experts, Dim(getInput(), 1)}, "[num_experts, hidden]")))
    return failure();
  if (getBiasAttr() &&
      failed(CheckWeight(*this, symbols, "bias", getBiasAttr(), {experts},
                         "[num_experts]")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// kt.experts
//===----------------------------------------------------------------------===//

LogicalResult ExpertsOp::verify() {
  const int64_t experts = getNumExperts();
  const int64_t top_k = getTopK();
  if (failed(CheckPositive(*this, "num_experts", experts)) ||
      failed(CheckPositive(*this, "top_k", top_k)))
    return failure();
  if (top_k > experts)
    return emitOpError() << "top_k " << top_k << " exceeds num_experts " << experts;
  for (Value routing : {getWeights(), getIds()}) {
    if (Dim(routing, 1) != top_k)
      return emitOpError() << "routing operands must have top_k = " << top_k
                           << " columns, got " << routing.getType();
  }
  if (auto router = getIds().getDefiningOp<RouterOp>()) {
    if (static_cast<int64_t>(router.getNumExperts()) != experts)
      return emitOpError() << "num_experts " << experts
                           << " differs from its router's " << router.getNumExperts();
    if (getWeights() != router.getWeights())
      return emitOpError() << "weights and ids must come from the same kt.router";
  }
  if (getInput().getType() != getResult().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " differs from input type " << getInput().getType();
  return CheckTokenCounts(*this, {getInput(), getWeights(), getIds()});
}

LogicalResult ExpertsOp::verifySymbolUses(SymbolTableCollection &symbols) {
  const int64_t experts = getNumExperts();
  const int64_t hidden = Dim(getInput(), 1);
  QTensorType gate;
  if (failed(CheckWeight(*this, symbols, "gate", getGateAttr(),
                         {experts, kAny, hidden}, "[num_experts, ff, hidden]",
                         &gate)))
    return failure();
  const int64_t ff = gate.getShape()[1];
  if (failed(CheckWeight(*this, symbols, "up", getUpAttr(), {experts, ff, hidden},
                         "[num_experts, ff, hidden]")) ||
      failed(CheckWeight(*this, symbols, "down", getDownAttr(),
                         {experts, hidden, ff}, "[num_experts, hidden, ff]")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// kt.ffn
//===----------------------------------------------------------------------===//

LogicalResult FfnOp::verifySymbolUses(SymbolTableCollection &symbols) {
  const int64_t hidden = Dim(getInput(), 1);
  QTensorType gate;
  if (failed(CheckWeight(*this, symbols, "gate", getGateAttr(), {kAny, hidden},
                         "[ff, hidden]", &gate)))
    return failure();
  const int64_t ff = gate.getShape()[0];
  if (failed(CheckWeight(*this, symbols, "up", getUpAttr(), {ff, hidden},
                         "[ff, hidden]")) ||
      failed(CheckWeight(*this, symbols, "down", getDownAttr(), {hidden, ff},
                         "[hidden, ff]")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// kt.lm_head, kt.argmax
//===----------------------------------------------------------------------===//

LogicalResult LmHeadOp::verify() {
  return CheckTokenCounts(*this, {getInput(), getResult()});
}

LogicalResult LmHeadOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return CheckWeight(*this, symbols, "output", getWeightAttr(),
                     {Dim(getResult(), 1), Dim(getInput(), 1)}, "[vocab, hidden]");
}

LogicalResult ArgmaxOp::verify() {
  return CheckTokenCounts(*this, {getLogits(), getResult()});
}

}  // namespace kt
