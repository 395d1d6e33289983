#include "compiler/Import/ImportDeepseek2.h"

#include <limits>
#include <optional>
#include <string>

#include "compiler/Import/ModelInfo.h"
#include "dialects/kt/IR/KtOps.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

namespace kt::import {
namespace {

using mlir::NamedAttribute;
using mlir::Value;

class Importer {
 public:
  Importer(mlir::MLIRContext* context, const gguf::GgufFile& file, const artifact::Hyperparameters& h)
      : ctx_(context), file_(file), h_(h), b_(context) {}

  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> Run();

 private:
  // True when `name` is a tensor of the file (after its kt.weight was made).
  bool Has(const std::string& name) const { return file_.FindTensor(name) != nullptr; }
  // A reference to tensor `name`, or an error when the file lacks it.
  StatusOr<mlir::FlatSymbolRefAttr> Ref(const std::string& name, const std::string& why);
  Status AddWeights();
  Status BuildFunction(const std::string& name, bool decode);

  mlir::RankedTensorType Act(int64_t width) {
    return mlir::RankedTensorType::get({tokens_, width}, b_.getF32Type());
  }
  mlir::RankedTensorType Ids(int64_t width, mlir::Type elem) {
    return mlir::RankedTensorType::get({tokens_, width}, elem);
  }
  NamedAttribute I64(const char* name, int64_t v) { return b_.getNamedAttr(name, b_.getI64IntegerAttr(v)); }
  NamedAttribute F32(const char* name, float v) { return b_.getNamedAttr(name, b_.getF32FloatAttr(v)); }
  NamedAttribute Sym(const char* name, mlir::FlatSymbolRefAttr ref) { return b_.getNamedAttr(name, ref); }

  mlir::MLIRContext* ctx_;
  const gguf::GgufFile& file_;
  const artifact::Hyperparameters& h_;
  mlir::OpBuilder b_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  int64_t tokens_ = 1;
};

StatusOr<mlir::FlatSymbolRefAttr> Importer::Ref(const std::string& name, const std::string& why) {
  if (!Has(name))
    return KT_ERROR(kNotFound, file_.name(), ": tensor '", name, "' is missing (", why, ")");
  return mlir::FlatSymbolRefAttr::get(ctx_, name);
}

Status Importer::AddWeights() {
  b_.setInsertionPointToEnd(module_->getBody());
  for (const gguf::GgufTensorInfo& t : file_.tensors()) {
    llvm::SmallVector<int64_t> shape;
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it) {
      if (*it == 0 || *it > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return KT_ERROR(kInvalidArgument, file_.name(), ": tensor '", t.name, "' has dimension ", *it);
      shape.push_back(static_cast<int64_t>(*it));
    }
    std::string diag;
    auto emit = [&] {
      return mlir::emitError(b_.getUnknownLoc());
    };
    mlir::ScopedDiagnosticHandler handler(ctx_, [&](mlir::Diagnostic& d) {
      diag = d.str();
      return mlir::success();
    });
    QTensorType type = QTensorType::getChecked(emit, ctx_, t.type, llvm::ArrayRef<int64_t>(shape));
    if (!type) return KT_ERROR(kInvalidArgument, file_.name(), ": tensor '", t.name, "': ", diag);
    b_.create<WeightOp>(b_.getUnknownLoc(), b_.getStringAttr(t.name), mlir::TypeAttr::get(type));
  }
  return Status::Ok();
}

Status Importer::BuildFunction(const std::string& name, bool decode) {
  tokens_ = decode ? 1 : mlir::ShapedType::kDynamic;
  const int64_t hidden = h_.embedding_length;
  auto tok_type = mlir::RankedTensorType::get({tokens_}, b_.getI32Type());
  b_.setInsertionPointToEnd(module_->getBody());
  auto func = b_.create<mlir::func::FuncOp>(b_.getUnknownLoc(), name,
                                            b_.getFunctionType({tok_type, tok_type}, {tok_type}));
  mlir::Block* entry = func.addEntryBlock();
  b_.setInsertionPointToStart(entry);
  const mlir::Location loc = b_.getUnknownLoc();
  Value tokens = entry->getArgument(0), pos = entry->getArgument(1);

  KT_ASSIGN_OR_RETURN(auto embd, Ref("token_embd.weight", "token embedding"));
  Value x = b_.create<EmbedOp>(loc, mlir::TypeRange{Act(hidden)}, mlir::ValueRange{tokens},
                               llvm::ArrayRef<NamedAttribute>{Sym("table", embd)})
                .getResult();

  KT_ASSIGN_OR_RETURN(AttentionDims dims, ResolveAttentionDims(h_, file_.name()));
  const float eps = h_.rms_norm_epsilon;
  RopeScaling scaling = static_cast<RopeScaling>(static_cast<int>(h_.rope_scaling_type));
  auto rope = RopeAttr::get(ctx_, llvm::APFloat(static_cast<double>(h_.rope_freq_base)), scaling,
                            llvm::APFloat(static_cast<double>(h_.rope_scaling_factor)),
                            static_cast<int64_t>(h_.rope_scaling_original_context_length),
                            llvm::APFloat(static_cast<double>(h_.rope_scaling_yarn_log_multiplier)),
                            llvm::APFloat(32.0), llvm::APFloat(1.0));
  auto norm = [&](Value in, const std::string& weight, std::optional<int64_t> layer) -> StatusOr<Value> {
    KT_ASSIGN_OR_RETURN(auto w, Ref(weight, "RMS norm scale"));
    llvm::SmallVector<NamedAttribute> attrs{Sym("weight", w), F32("eps", eps)};
    if (layer) attrs.push_back(I64("layer", *layer));
    return b_.create<RmsNormOp>(loc, mlir::TypeRange{in.getType()}, mlir::ValueRange{in}, attrs).getResult();
  };
  auto add = [&](Value a, Value c) {
    return b_.create<AddOp>(loc, mlir::TypeRange{a.getType()}, mlir::ValueRange{a, c},
                            llvm::ArrayRef<NamedAttribute>{})
        .getResult();
  };

  for (uint32_t il = 0; il < h_.block_count; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::string layer_what = "layer " + std::to_string(il);
    KT_ASSIGN_OR_RETURN(Value an, norm(x, p + "attn_norm.weight", il));

    llvm::SmallVector<NamedAttribute> mla{
        I64("layer", il),
        I64("heads", h_.head_count),
        I64("q_lora_rank", h_.q_lora_rank),
        I64("kv_lora_rank", h_.kv_lora_rank),
        I64("qk_nope_head_dim", dims.qk_nope),
        I64("qk_rope_head_dim", dims.qk_rope),
        I64("v_head_dim", dims.v),
        F32("eps", eps),
        b_.getNamedAttr("rope", rope),
    };
    auto use = [&](const char* role, const std::string& tensor, const std::string& why) -> Status {
      KT_ASSIGN_OR_RETURN(auto r, Ref(p + tensor, why + ", " + layer_what));
      mla.push_back(Sym(role, r));
      return Status::Ok();
    };
    if (h_.q_lora_rank > 0) {
      KT_RETURN_IF_ERROR(use("q_a", "attn_q_a.weight", "q_lora_rank > 0"));
      KT_RETURN_IF_ERROR(use("q_a_norm", "attn_q_a_norm.weight", "q_lora_rank > 0"));
      KT_RETURN_IF_ERROR(use("q_b", "attn_q_b.weight", "q_lora_rank > 0"));
    } else {
      KT_RETURN_IF_ERROR(use("q", "attn_q.weight", "q_lora_rank = 0"));
    }
    KT_RETURN_IF_ERROR(use("kv_a", "attn_kv_a_mqa.weight", "MLA"));
    KT_RETURN_IF_ERROR(use("kv_a_norm", "attn_kv_a_norm.weight", "MLA"));
    if (Has(p + "attn_kv_b.weight")) {
      KT_RETURN_IF_ERROR(use("kv_b", "attn_kv_b.weight", "MLA"));
    } else if (Has(p + "attn_k_b.weight") || Has(p + "attn_v_b.weight")) {
      KT_RETURN_IF_ERROR(use("k_b", "attn_k_b.weight", "split K/V up-projection"));
      KT_RETURN_IF_ERROR(use("v_b", "attn_v_b.weight", "split K/V up-projection"));
    } else {
      return KT_ERROR(kNotFound, file_.name(), ": ", layer_what, " has neither '", p,
                      "attn_kv_b.weight' nor the split '", p, "attn_k_b.weight'/'", p, "attn_v_b.weight'");
    }
    KT_RETURN_IF_ERROR(use("o", "attn_output.weight", "MLA"));
    Value att = b_.create<MlaOp>(loc, mlir::TypeRange{an.getType()}, mlir::ValueRange{an, pos}, mla).getResult();
    Value r = add(x, att);
    KT_ASSIGN_OR_RETURN(Value fn, norm(r, p + "ffn_norm.weight", il));

    if (il < h_.leading_dense_block_count) {
      KT_ASSIGN_OR_RETURN(auto gate, Ref(p + "ffn_gate.weight", "dense FFN, " + layer_what));
      KT_ASSIGN_OR_RETURN(auto up, Ref(p + "ffn_up.weight", "dense FFN, " + layer_what));
      KT_ASSIGN_OR_RETURN(auto down, Ref(p + "ffn_down.weight", "dense FFN, " + layer_what));
      Value f = b_.create<FfnOp>(loc, mlir::TypeRange{fn.getType()}, mlir::ValueRange{fn},
                                 llvm::ArrayRef<NamedAttribute>{
                                     I64("layer", il),
                                     b_.getNamedAttr("kind", FfnKindAttr::get(ctx_, FfnKind::dense)),
                                     Sym("gate", gate), Sym("up", up), Sym("down", down)})
                    .getResult();
      x = add(r, f);
      continue;
    }
    const std::string moe_what = "MoE " + layer_what;
    KT_ASSIGN_OR_RETURN(auto gate_inp, Ref(p + "ffn_gate_inp.weight", "router, " + moe_what));
    const int64_t n_expert = h_.expert_count, top_k = h_.expert_used_count;
    const int64_t groups = h_.expert_group_count > 0 ? h_.expert_group_count : 1;
    const int64_t groups_used = h_.expert_group_used_count > 0 ? h_.expert_group_used_count : groups;
    const Gating gating =
        h_.expert_gating_func == artifact::GatingFunc::kSigmoid ? Gating::sigmoid : Gating::softmax;
    llvm::SmallVector<NamedAttribute> router{
        I64("layer", il),
        I64("num_experts", n_expert),
        I64("top_k", top_k),
        b_.getNamedAttr("gating", GatingAttr::get(ctx_, gating)),
        I64("groups", groups),
        I64("groups_used", groups_used),
        b_.getNamedAttr("norm", b_.getBoolAttr(h_.expert_weights_norm)),
        F32("scale", h_.expert_weights_scale),
        Sym("weight", gate_inp),
    };
    if (Has(p + "exp_probs_b.bias"))
      router.push_back(Sym("bias", mlir::FlatSymbolRefAttr::get(ctx_, p + "exp_probs_b.bias")));
    auto route = b_.create<RouterOp>(
        loc, mlir::TypeRange{Ids(top_k, b_.getF32Type()), Ids(top_k, b_.getI32Type())}, mlir::ValueRange{fn},
        router);
    KT_ASSIGN_OR_RETURN(auto gate, Ref(p + "ffn_gate_exps.weight", "routed experts, " + moe_what));
    KT_ASSIGN_OR_RETURN(auto up, Ref(p + "ffn_up_exps.weight", "routed experts, " + moe_what));
    KT_ASSIGN_OR_RETURN(auto down, Ref(p + "ffn_down_exps.weight", "routed experts, " + moe_what));
    Value e = b_.create<ExpertsOp>(loc, mlir::TypeRange{fn.getType()},
                                   mlir::ValueRange{fn, route.getWeights(), route.getIds()},
                                   llvm::ArrayRef<NamedAttribute>{I64("layer", il), I64("num_experts", n_expert),
                                                                  I64("top_k", top_k), Sym("gate", gate),
                                                                  Sym("up", up), Sym("down", down)})
                  .getResult();
    // Shared experts come before the residual adds so that a plan can run
    // them on the GPU while the CPU works on the routed experts.
    std::optional<Value> shared;
    if (h_.expert_shared_count > 0 || Has(p + "ffn_gate_shexp.weight")) {
      KT_ASSIGN_OR_RETURN(auto sg, Ref(p + "ffn_gate_shexp.weight", "shared experts, " + moe_what));
      KT_ASSIGN_OR_RETURN(auto su, Ref(p + "ffn_up_shexp.weight", "shared experts, " + moe_what));
      KT_ASSIGN_OR_RETURN(auto sd, Ref(p + "ffn_down_shexp.weight", "shared experts, " + moe_what));
      shared = b_.create<FfnOp>(loc, mlir::TypeRange{fn.getType()}, mlir::ValueRange{fn},
                                llvm::ArrayRef<NamedAttribute>{
                                    I64("layer", il),
                                    b_.getNamedAttr("kind", FfnKindAttr::get(ctx_, FfnKind::shared)),
                                    Sym("gate", sg), Sym("up", su), Sym("down", sd)})
                   .getResult();
    }
    Value out = add(r, e);
    if (shared) out = add(out, *shared);
    x = out;
  }
  KT_ASSIGN_OR_RETURN(Value on, norm(x, "output_norm.weight", std::nullopt));
  // Tied embeddings: without output.weight the embedding table is the head.
  const std::string head = Has("output.weight") ? "output.weight" : "token_embd.weight";
  Value logits = b_.create<LmHeadOp>(loc, mlir::TypeRange{Act(h_.vocab_size)}, mlir::ValueRange{on},
                                     llvm::ArrayRef<NamedAttribute>{
                                         Sym("weight", mlir::FlatSymbolRefAttr::get(ctx_, head))})
                     .getResult();
  Value next = b_.create<ArgmaxOp>(loc, mlir::TypeRange{tok_type}, mlir::ValueRange{logits},
                                   llvm::ArrayRef<NamedAttribute>{})
                   .getResult();
  b_.create<mlir::func::ReturnOp>(loc, mlir::ValueRange{next});
  return Status::Ok();
}

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> Importer::Run() {
  module_ = mlir::ModuleOp::create(b_.getUnknownLoc());
  KT_RETURN_IF_ERROR(AddWeights());
  KT_RETURN_IF_ERROR(BuildFunction("decode", true));
  KT_RETURN_IF_ERROR(BuildFunction("prefill", false));
  // The op verifiers check every weight shape against the hyperparameters.
  std::string diags;
  {
    mlir::ScopedDiagnosticHandler handler(ctx_, [&](mlir::Diagnostic& d) {
      llvm::raw_string_ostream os(diags);
      os << "\n  " << d;
      for (const mlir::Diagnostic& note : d.getNotes()) os << "\n    note: " << note;
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*module_)))
      return KT_ERROR(kInvalidArgument, file_.name(),
                      ": tensor shapes do not match the deepseek2.* hyperparameters:", diags);
  }
  return std::move(module_);
}

}  // namespace

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> ImportDeepseek2(mlir::MLIRContext* context, const gguf::GgufFile& file,
                                                            const artifact::Hyperparameters& h) {
  Importer importer(context, file, h);
  return importer.Run();
}

}  // namespace kt::import
