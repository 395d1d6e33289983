#include "compiler/Pipeline/Analysis.h"

#include <optional>

#include "compiler/CostModel/CostModel.h"
#include "compiler/Import/ConfigCheck.h"
#include "compiler/Import/ImportDeepseek2.h"
#include "compiler/Import/ModelInfo.h"
#include "compiler/Transforms/OpNames.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/kt/IR/KtOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

namespace kt::pipeline {
namespace {

using artifact::OpKind;

// Collects MLIR diagnostics so that they come back as a Status message;
// warnings are also kept apart for a run that succeeds.
class DiagnosticCollector {
 public:
  explicit DiagnosticCollector(mlir::MLIRContext* ctx)
      : handler_(ctx, [this](mlir::Diagnostic& d) {
          std::string one;
          llvm::raw_string_ostream os(one);
          if (d.getSeverity() == mlir::DiagnosticSeverity::Warning) os << "warning: ";
          os << d;
          for (const mlir::Diagnostic& note : d.getNotes()) os << "\n  note: " << note;
          os.flush();
          if (d.getSeverity() == mlir::DiagnosticSeverity::Warning) warnings_.push_back(one);
          text_ += (text_.empty() ? "" : "\n") + one;
          return mlir::success();
        }) {}
  const std::string& text() const { return text_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string text_;
  std::vector<std::string> warnings_;
  mlir::ScopedDiagnosticHandler handler_;
};

std::string Print(mlir::ModuleOp module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  module.print(os);
  return out;
}

// Placement record names: readable, unique, equal for an op's @decode and
// @prefill copies (both are built in the same order by the importer).
// Ops with weights are named as placement rules see them (OpName).
std::string RecordName(mlir::Operation* op, int32_t layer, int add_ordinal) {
  if (std::string name = OpName(op); !name.empty()) return name;
  const std::string blk = layer >= 0 ? "blk." + std::to_string(layer) + "." : "";
  return (blk.empty() ? std::string("residual.") : blk + "residual.") + std::to_string(add_ordinal);
}

std::optional<OpKind> KindOf(mlir::Operation* op) {
  if (llvm::isa<EmbedOp>(op)) return OpKind::kEmbed;
  if (llvm::isa<RmsNormOp>(op)) return OpKind::kRmsNorm;
  if (llvm::isa<MlaOp>(op)) return OpKind::kMla;
  if (llvm::isa<RouterOp>(op)) return OpKind::kRouter;
  if (llvm::isa<ExpertsOp>(op)) return OpKind::kExperts;
  if (auto ffn = llvm::dyn_cast<FfnOp>(op))
    return ffn.getKind() == FfnKind::shared ? OpKind::kSharedExperts : OpKind::kFfn;
  if (llvm::isa<AddOp>(op)) return OpKind::kAdd;
  if (llvm::isa<LmHeadOp>(op)) return OpKind::kLmHead;
  return std::nullopt;
}

StatusOr<FunctionInfo> Flatten(mlir::ModuleOp module, llvm::StringRef name) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(name);
  if (!func) return KT_ERROR(kInternal, "module has no @", name.str(), " function");
  FunctionInfo info;
  info.name = name.str();
  llvm::DenseMap<mlir::Operation*, int> index;
  int32_t layer = -1;
  int add_ordinal = 0;
  mlir::SymbolTableCollection symbols;
  for (mlir::Operation& op : func.getBody().front()) {
    std::optional<OpKind> kind = KindOf(&op);
    if (!kind) continue;
    OpInfo o;
    // Residual adds carry no layer; they belong to the layer before them.
    if (auto l = op.getAttrOfType<mlir::IntegerAttr>("layer")) {
      if (l.getInt() != layer) add_ordinal = 0;
      layer = static_cast<int32_t>(l.getInt());
      o.layer = layer;
    } else if (llvm::isa<AddOp>(&op)) {
      o.layer = layer;
    } else {
      o.layer = -1;
    }
    o.kind = *kind;
    o.mnemonic = op.getName().stripDialect().str();
    o.record = RecordName(&op, o.layer, llvm::isa<AddOp>(&op) ? add_ordinal++ : 0);
    auto device = op.getAttrOfType<DeviceAttr>(KtDialect::kDeviceAttrName);
    if (!device) return KT_ERROR(kInternal, "op ", o.record, " has no kt.device after kt-place-ops");
    o.gpu = !device.isCpu();
    if (auto reason = op.getAttrOfType<mlir::StringAttr>(KtDialect::kReasonAttrName)) o.reason = reason.str();
    if (auto cost = op.getAttrOfType<CostAttr>(KtDialect::kCostAttrName)) {
      OpCost c = FromAttr(cost);
      o.weight_bytes = c.weight_bytes;
      o.touched_bytes = c.touched_bytes;
      o.flops = c.flops;
      o.kv_bytes = c.kv_bytes;
      o.intensity = c.intensity;
    }
    auto weights = ReferencedWeights(&op, symbols);
    if (mlir::failed(weights)) return KT_ERROR(kInternal, "op ", o.record, ": unresolved weight");
    for (WeightOp w : *weights) o.weights.push_back(w.getSymName().str());
    for (mlir::Value v : op.getOperands()) {
      mlir::Operation* producer = v.getDefiningOp();
      auto it = producer ? index.find(producer) : index.end();
      o.inputs.push_back(it == index.end() ? -1 : it->second);
    }
    index[&op] = static_cast<int>(info.ops.size());
    info.ops.push_back(std::move(o));
  }
  return info;
}

uint64_t DictInt(mlir::DictionaryAttr dict, llvm::StringRef key) {
  if (!dict) return 0;
  auto v = dict.getAs<mlir::IntegerAttr>(key);
  return v ? static_cast<uint64_t>(v.getInt()) : 0;
}

}  // namespace

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::kImport: return "import";
    case Stage::kCosts: return "annotate-costs";
    case Stage::kPlace: return "place-ops";
  }
  return "?";
}

bool ParseStage(const std::string& name, Stage* stage) {
  for (Stage s : {Stage::kImport, Stage::kCosts, Stage::kPlace}) {
    if (name == StageName(s)) {
      *stage = s;
      return true;
    }
  }
  return false;
}

StatusOr<Analysis> Analyze(const gguf::GgufFile& file, const AnalysisOptions& options) {
  Analysis a;
  KT_ASSIGN_OR_RETURN(a.hparams, import::ReadHyperparameters(file));
  KT_ASSIGN_OR_RETURN(a.tokenizer, import::ReadTokenizer(file));
  if (!options.config_path.empty())
    KT_RETURN_IF_ERROR(import::CheckConfigJson(options.config_path, a.hparams, file.name()));
  a.ctx = options.ctx;
  for (const gguf::GgufTensorInfo& t : file.tensors()) a.gguf_tensor_bytes += t.n_bytes;

  mlir::MLIRContext context;
  context.loadDialect<KtDialect, mlir::func::FuncDialect>();
  KT_ASSIGN_OR_RETURN(mlir::OwningOpRef<mlir::ModuleOp> module, import::ImportDeepseek2(&context, file, a.hparams));
  if (options.emit_mlir && options.emit_after == Stage::kImport) {
    a.mlir = Print(*module);
    a.stopped_early = true;
    return a;
  }

  DiagnosticCollector diags(&context);
  {
    mlir::PassManager pm(&context);
    pm.addPass(createKtAnnotateCosts());
    if (mlir::failed(pm.run(*module)))
      return KT_ERROR(kInternal, "kt-annotate-costs failed: ", diags.text());
  }
  if (options.emit_mlir && options.emit_after == Stage::kCosts) {
    a.mlir = Print(*module);
    a.stopped_early = true;
    return a;
  }
  {
    mlir::PassManager pm(&context);
    KtPlaceOpsOptions place;
    place.vram = options.vram;
    place.ctx = options.ctx;
    place.rules = options.rules_path;
    pm.addPass(createKtPlaceOps(place));
    if (mlir::failed(pm.run(*module)))
      return KT_ERROR(kInvalidArgument, diags.text().empty() ? "kt-place-ops failed" : diags.text());
  }
  a.warnings = diags.warnings();
  if (options.emit_mlir) {
    a.mlir = Print(*module);
    a.stopped_early = true;
    return a;
  }

  auto placement = (*module)->getAttrOfType<mlir::DictionaryAttr>("kt.placement");
  a.vram_budget = DictInt(placement, "vram");
  a.min_vram = DictInt(placement, "min_vram");
  a.kv_cache_gpu = DictInt(placement, "kv_cache");
  a.workspace = DictInt(placement, "workspace");
  KT_ASSIGN_OR_RETURN(a.decode, Flatten(*module, "decode"));
  KT_ASSIGN_OR_RETURN(a.prefill, Flatten(*module, "prefill"));
  for (WeightOp w : module->getOps<WeightOp>()) {
    WeightInfo info;
    info.name = w.getSymName().str();
    auto device = w->getAttrOfType<DeviceAttr>(KtDialect::kDeviceAttrName);
    info.gpu = device && !device.isCpu();
    info.bytes = w.getQType().getSizeInBytes();
    (info.gpu ? a.gpu_weight_bytes : a.cpu_weight_bytes) += info.bytes;
    a.any_gpu |= info.gpu;
    a.weights.push_back(std::move(info));
  }
  for (const OpInfo& o : a.decode.ops) a.any_gpu |= o.gpu;
  // The pass reserves VRAM only for attention on the GPU; the rest of the
  // KV cache lives in DRAM.
  for (const OpInfo& o : a.decode.ops) a.kv_cache += o.kv_bytes * a.ctx;
  if (a.kv_cache_gpu > a.kv_cache)
    return KT_ERROR(kInternal, "KV cache reserved in VRAM (", a.kv_cache_gpu, " B) exceeds the whole KV cache (",
                    a.kv_cache, " B)");
  if (a.gpu_weight_bytes + a.cpu_weight_bytes != a.gguf_tensor_bytes)
    return KT_ERROR(kInternal, "placed weight bytes ", a.gpu_weight_bytes + a.cpu_weight_bytes,
                    " differ from the GGUF's tensor bytes ", a.gguf_tensor_bytes);
  return a;
}

SpeedEstimate PredictDecode(const Analysis& a, double dram_gbps, double hbm_gbps) {
  SpeedEstimate s;
  for (const OpInfo& o : a.decode.ops) {
    double bytes = static_cast<double>(o.touched_bytes) + static_cast<double>(o.kv_bytes) * a.ctx / 2.0;
    (o.gpu ? s.gpu_bytes_per_token : s.cpu_bytes_per_token) += bytes;
  }
  s.seconds_per_token = s.gpu_bytes_per_token / (hbm_gbps * 1e9) + s.cpu_bytes_per_token / (dram_gbps * 1e9);
  s.tokens_per_second = s.seconds_per_token > 0 ? 1.0 / s.seconds_per_token : 0;
  return s;
}

}  // namespace kt::pipeline
