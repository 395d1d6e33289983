// kt-place-ops: decides GPU or CPU for every kt op within a VRAM budget.
// The ranking is by op class (see Passes.td); costs only size the units.
#include <algorithm>
#include <string>

#include "compiler/CostModel/ByteSize.h"
#include "compiler/CostModel/CostModel.h"
#include "compiler/Transforms/OpNames.h"
#include "compiler/Transforms/Passes.h"
#include "compiler/Transforms/PlacementRules.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "kt-place-ops"

namespace kt {

#define GEN_PASS_DEF_KTPLACEOPS
#include "compiler/Transforms/Passes.h.inc"

namespace {

using mlir::Operation;

enum Rank : int { kRequired = 0, kShared = 1, kDense = 2, kVocab = 3, kRouted = 4 };

// Ops that share the same weights (one layer in @decode and in @prefill)
// are placed together, since their weights live in one place.
struct Unit {
  llvm::SmallVector<Operation *> ops;
  llvm::SmallVector<WeightOp> weights;
  int rank = kRequired;
  std::string what;
  std::optional<int64_t> layer;
  size_t order = 0;
  uint64_t kv_per_token = 0;
  std::string name;                        // as `ktc plan` prints it
  const PlacementRule *rule = nullptr;     // the first rule that matched, if any
};

struct Class {
  int rank;
  const char *what;
};

std::optional<Class> Classify(Operation *op) {
  if (llvm::isa<MlaOp>(op)) return Class{kRequired, "attention"};
  if (llvm::isa<RmsNormOp>(op)) return Class{kRequired, "norm"};
  if (llvm::isa<RouterOp>(op)) return Class{kRequired, "router"};
  if (auto ffn = llvm::dyn_cast<FfnOp>(op))
    return ffn.getKind() == FfnKind::shared ? Class{kShared, "shared experts"}
                                            : Class{kDense, "dense FFN"};
  if (llvm::isa<LmHeadOp>(op)) return Class{kVocab, "lm_head"};
  if (llvm::isa<EmbedOp>(op)) return Class{kVocab, "embedding"};
  if (llvm::isa<ExpertsOp>(op)) return Class{kRouted, "routed experts"};
  return std::nullopt;
}

// Order within a rank: by layer, the embedding before every layer and the
// output (norm, lm_head) after them.
int64_t LayerKey(const Unit &unit) {
  if (unit.layer) return *unit.layer;
  return llvm::isa<EmbedOp>(unit.ops.front()) ? -1 : INT64_MAX;
}

std::string Describe(const Unit &unit) {
  std::string text = "rank " + std::to_string(unit.rank) + " " + unit.what;
  if (unit.layer) text += ", layer " + std::to_string(*unit.layer);
  return text;
}

std::string Bytes(uint64_t bytes) { return std::to_string(bytes) + " B"; }

class PlaceOpsPass : public impl::KtPlaceOpsBase<PlaceOpsPass> {
 public:
  using KtPlaceOpsBase::KtPlaceOpsBase;
  // Clones copy the options; the per-run state below starts empty.
  PlaceOpsPass(const PlaceOpsPass &other) : KtPlaceOpsBase(other) {}

  void runOnOperation() override;

 private:
  mlir::LogicalResult CollectUnits(mlir::ModuleOp module);
  // Loads `rules` and pins each unit to its first matching rule.
  mlir::LogicalResult ApplyRules(mlir::ModuleOp module);
  std::string PinReason(const Unit &unit) const;
  mlir::FailureOr<uint64_t> WorkspaceBytes(mlir::ModuleOp module);
  // Weight bytes a unit adds to the GPU (weights already there are free).
  uint64_t NewGpuBytes(const Unit &unit) const;
  void Place(Unit &unit, bool gpu, const std::string &reason);

  std::optional<mlir::SymbolTableCollection> symbols_;
  std::vector<Unit> units_;
  llvm::SmallVector<Operation *> weightless_;
  llvm::DenseSet<Operation *> gpu_weights_;
  DeviceAttr cpu_, gpu_;
  PlacementRules rules_;
};

mlir::LogicalResult PlaceOpsPass::CollectUnits(mlir::ModuleOp module) {
  // @decode first: its order decides the units' order, @prefill joins them.
  llvm::SmallVector<mlir::func::FuncOp> funcs(module.getOps<mlir::func::FuncOp>());
  std::stable_partition(funcs.begin(), funcs.end(), [](mlir::func::FuncOp f) {
    return f.getSymName() == "decode";
  });
  llvm::StringMap<size_t> unit_of_key;
  CostOptions options;
  options.kv_elem_bytes = kvElemBytes;
  for (mlir::func::FuncOp func : funcs) {
    mlir::WalkResult walk = func.walk([&](Operation *op) {
      if (llvm::isa<AddOp, ArgmaxOp>(op)) {
        weightless_.push_back(op);
        return mlir::WalkResult::advance();
      }
      std::optional<Class> cls = Classify(op);
      if (!cls) return mlir::WalkResult::advance();
      auto weights = ReferencedWeights(op, *symbols_);
      if (failed(weights)) return mlir::WalkResult::interrupt();
      std::string key;
      for (WeightOp weight : *weights) key += weight.getSymName().str() + "\n";
      auto [it, inserted] = unit_of_key.try_emplace(key, units_.size());
      if (inserted) {
        Unit unit;
        unit.weights = *weights;
        unit.rank = cls->rank;
        unit.what = cls->what;
        if (auto layer = op->getAttrOfType<mlir::IntegerAttr>("layer"))
          unit.layer = layer.getInt();
        unit.order = units_.size();
        unit.name = OpName(op);
        if (llvm::isa<MlaOp>(op)) {
          mlir::FailureOr<OpCost> cost = mlir::failure();
          if (auto attr = op->getAttrOfType<CostAttr>(KtDialect::kCostAttrName))
            cost = FromAttr(attr);
          else
            cost = EstimateCost(op, *symbols_, options);
          if (failed(cost)) return mlir::WalkResult::interrupt();
          unit.kv_per_token = cost->kv_bytes;
        }
        units_.push_back(std::move(unit));
      }
      units_[it->second].ops.push_back(op);
      return mlir::WalkResult::advance();
    });
    if (walk.wasInterrupted()) return mlir::failure();
  }
  return mlir::success();
}

// Three activation buffers of a prefill chunk at the widest activation,
// plus one row of logits (only the last token of a chunk needs them).
mlir::FailureOr<uint64_t> PlaceOpsPass::WorkspaceBytes(mlir::ModuleOp module) {
  if (workspace != "auto") {
    std::optional<uint64_t> bytes = ParseByteSize(workspace);
    if (!bytes)
      return mlir::emitError(module.getLoc()) << "kt-place-ops: cannot read workspace='"
                                << workspace
                                << "' (expected auto or a size such as 256MiB)";
    return *bytes;
  }
  uint64_t width = 0, vocab = 0;
  auto widen = [&](int64_t w) { width = std::max(width, static_cast<uint64_t>(w)); };
  for (const Unit &unit : units_) {
    for (Operation *op : unit.ops) {
      if (auto head = llvm::dyn_cast<LmHeadOp>(op)) {
        vocab = std::max(vocab, static_cast<uint64_t>(
                                    llvm::cast<mlir::ShapedType>(head.getResult().getType()).getDimSize(1)));
        continue;
      }
      for (mlir::Value result : op->getResults())
        widen(llvm::cast<mlir::ShapedType>(result.getType()).getDimSize(1));
      if (auto mla = llvm::dyn_cast<MlaOp>(op)) {
        int64_t heads = mla.getHeads();
        widen(heads * (mla.getQkNopeHeadDim() + mla.getQkRopeHeadDim()));
        widen(heads * std::max<int64_t>(mla.getVHeadDim(), mla.getKvLoraRank()));
      }
    }
    for (WeightOp weight : unit.weights)  // FFN widths: ff is a weight dim
      if (llvm::isa<FfnOp, ExpertsOp>(unit.ops.front()))
        for (int64_t d : weight.getQType().getShape()) widen(d);
  }
  unsigned __int128 bytes = static_cast<unsigned __int128>(3) * chunk * width * 4 +
                            static_cast<unsigned __int128>(vocab) * 4;
  if (bytes > UINT64_MAX)
    return mlir::emitError(module.getLoc()) << "kt-place-ops: workspace size overflows; lower chunk="
                              << static_cast<uint64_t>(chunk);
  return static_cast<uint64_t>(bytes);
}

mlir::LogicalResult PlaceOpsPass::ApplyRules(mlir::ModuleOp module) {
  rules_ = PlacementRules();
  if (rules.empty()) return mlir::success();
  StatusOr<PlacementRules> loaded = LoadPlacementRules(rules);
  if (!loaded.ok())
    return mlir::emitError(module.getLoc()) << "kt-place-ops: " << loaded.status().message();
  rules_ = std::move(*loaded);
  for (const PlacementRule &rule : rules_.rules)
    if (rule.cuda_ordinal && *rule.cuda_ordinal != gpu)
      return mlir::emitError(module.getLoc())
             << "kt-place-ops: " << rules_.Where(rule) << ": device " << rule.device
             << ", but this plan places on one GPU, cuda:" << static_cast<unsigned>(gpu)
             << " (several GPUs are not supported yet)";
  // matches: units a rule matches at all; decides: those it wins (first match).
  std::vector<int> matches(rules_.rules.size(), 0), decides(rules_.rules.size(), 0);
  for (Unit &unit : units_) {
    for (size_t i = 0; i < rules_.rules.size(); ++i) {
      const PlacementRule &rule = rules_.rules[i];
      bool hit = false;
      if (rule.on_tensor) {
        for (WeightOp weight : unit.weights) hit |= rule.Matches(weight.getSymName().str());
      } else {
        hit = rule.Matches(unit.name);
      }
      if (!hit) continue;
      ++matches[i];
      if (!unit.rule) {
        unit.rule = &rule;
        ++decides[i];
      }
    }
  }
  // Usually a typo in the pattern; the plan is still valid, so only a warning.
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    if (decides[i] > 0) continue;
    const PlacementRule &rule = rules_.rules[i];
    auto diag = mlir::emitWarning(module.getLoc());
    diag << "kt-place-ops: " << rules_.Where(rule) << ": rule (" << rule.Describe() << ") ";
    if (matches[i] == 0)
      diag << "matches no " << (rule.on_tensor ? "tensor of any op" : "op");
    else
      diag << "decides nothing: every op it matches was taken by an earlier rule";
  }
  return mlir::success();
}

std::string PlaceOpsPass::PinReason(const Unit &unit) const {
  std::string text = Describe(unit) + ": pinned to the " + (unit.rule->gpu ? "GPU" : "CPU") +
                     " by rule " + rules_.Where(*unit.rule) + " (" +
                     (unit.rule->on_tensor ? "tensor " : "match ") + unit.rule->pattern + ")";
  if (!unit.rule->kernel.empty()) text += ", kernel " + unit.rule->kernel;
  if (!unit.rule->layout.empty()) text += ", layout " + unit.rule->layout;
  return text;
}

uint64_t PlaceOpsPass::NewGpuBytes(const Unit &unit) const {
  uint64_t bytes = 0;
  for (WeightOp weight : unit.weights)
    if (!gpu_weights_.contains(weight.getOperation()))
      bytes += weight.getQType().getSizeInBytes();
  return bytes;
}

void PlaceOpsPass::Place(Unit &unit, bool gpu, const std::string &reason) {
  mlir::MLIRContext *context = &getContext();
  for (Operation *op : unit.ops) {
    op->setAttr(KtDialect::kDeviceAttrName, gpu ? gpu_ : cpu_);
    op->setAttr(KtDialect::kReasonAttrName, mlir::StringAttr::get(context, reason));
  }
  if (gpu)
    for (WeightOp weight : unit.weights) gpu_weights_.insert(weight.getOperation());
  LLVM_DEBUG(llvm::dbgs() << (gpu ? "gpu: " : "cpu: ") << reason << "\n");
}

void PlaceOpsPass::runOnOperation() {
  mlir::ModuleOp module = getOperation();
  mlir::MLIRContext *context = &getContext();
  symbols_.emplace();
  units_.clear();
  weightless_.clear();
  gpu_weights_.clear();
  cpu_ = DeviceAttr::getCpu(context);
  gpu_ = DeviceAttr::getCuda(context, gpu);

  std::optional<uint64_t> budget = ParseByteSize(vram);
  if (!budget) {
    mlir::emitError(module.getLoc()) << "kt-place-ops: cannot read vram='" << vram
                       << "' (expected bytes or a size such as 14GiB, 512MiB)";
    return signalPassFailure();
  }
  if (failed(CollectUnits(module))) return signalPassFailure();

  if (failed(ApplyRules(module))) return signalPassFailure();

  // A unit the GPU must hold: one a rule pins there, or rank 0 unless a rule
  // pins it to the CPU.
  auto must_gpu = [](const Unit &unit) {
    return unit.rule ? unit.rule->gpu : unit.rank == kRequired;
  };
  bool any_gpu_pin = false;
  for (const Unit &unit : units_) any_gpu_pin |= unit.rule && unit.rule->gpu;

  uint64_t kv_cache = 0, workspace_bytes = 0, required = 0, pinned = 0, min_vram = 0;
  if (*budget == 0 && !any_gpu_pin) {
    for (Unit &unit : units_)
      Place(unit, false, unit.rule ? PinReason(unit) : "vram=0: everything runs on the CPU");
  } else {
    // A layer's KV cache lives with its attention: only attention on the GPU
    // reserves VRAM for it.
    for (const Unit &unit : units_) {
      if (!must_gpu(unit)) continue;
      unsigned __int128 kv = static_cast<unsigned __int128>(unit.kv_per_token) * ctx;
      if (kv + kv_cache > UINT64_MAX) {
        mlir::emitError(module.getLoc()) << "kt-place-ops: KV cache for ctx="
                                         << static_cast<uint64_t>(ctx)
                           << " overflows 64 bits";
        return signalPassFailure();
      }
      kv_cache += static_cast<uint64_t>(kv);
    }
    mlir::FailureOr<uint64_t> ws = WorkspaceBytes(module);
    if (failed(ws)) return signalPassFailure();
    workspace_bytes = *ws;
    // Weights counted once, rank 0 first; what rules add is theirs.
    llvm::DenseSet<Operation *> counted;
    std::vector<std::pair<const PlacementRule *, uint64_t>> pinned_by;
    for (const Unit &unit : units_)
      if (!unit.rule && unit.rank == kRequired)
        for (WeightOp weight : unit.weights)
          if (counted.insert(weight.getOperation()).second)
            required += weight.getQType().getSizeInBytes();
    for (const Unit &unit : units_) {
      if (!unit.rule || !unit.rule->gpu) continue;
      uint64_t bytes = 0;
      for (WeightOp weight : unit.weights)
        if (counted.insert(weight.getOperation()).second) bytes += weight.getQType().getSizeInBytes();
      pinned += bytes;
      auto it = std::find_if(pinned_by.begin(), pinned_by.end(),
                             [&](const auto &p) { return p.first == unit.rule; });
      if (it == pinned_by.end())
        pinned_by.push_back({unit.rule, bytes});
      else
        it->second += bytes;
    }
    std::stable_sort(pinned_by.begin(), pinned_by.end(),
                     [](const auto &a, const auto &b) { return a.first->line < b.first->line; });
    auto responsible = [&] {
      std::string text;
      for (const auto &[rule, bytes] : pinned_by)
        text += (text.empty() ? "" : ", ") + rules_.Where(*rule) + " (" + Bytes(bytes) + ")";
      return text;
    };
    if (pinned > *budget) {
      mlir::emitError(module.getLoc())
          << "kt-place-ops: rules pin " << pinned << " B (" << FormatByteSize(pinned)
          << ") of weights to the GPU, more than the whole budget vram=" << vram << " (" << *budget
          << " B): " << responsible();
      return signalPassFailure();
    }
    min_vram = kv_cache + workspace_bytes + required + pinned;
    if (*budget < min_vram) {
      auto diag = mlir::emitError(module.getLoc());
      diag << "kt-place-ops: vram=" << vram << " (" << *budget
                         << " B) is below the minimum of " << min_vram << " B ("
                         << FormatByteSize(min_vram)
                         << ") for a GPU plan: KV cache " << kv_cache
                         << " B for ctx=" << static_cast<uint64_t>(ctx) << ", workspace " << workspace_bytes
                         << " B, attention/norm/router weights " << required << " B";
      if (pinned) diag << ", weights pinned to the GPU by rules " << pinned << " B: " << responsible();
      diag << "; use vram >= " << min_vram;
      if (!any_gpu_pin) diag << " or vram=0 for a CPU-only plan";
      return signalPassFailure();
    }
    for (Unit &unit : units_) {
      if (unit.rule)
        Place(unit, unit.rule->gpu, PinReason(unit));
      else if (unit.rank == kRequired)
        Place(unit, true, Describe(unit) + ": required on the GPU when vram > 0");
    }
    uint64_t left = *budget - min_vram;
    std::vector<Unit *> optional;
    for (Unit &unit : units_)
      if (!unit.rule && unit.rank != kRequired) optional.push_back(&unit);
    std::stable_sort(optional.begin(), optional.end(), [](Unit *a, Unit *b) {
      if (a->rank != b->rank) return a->rank < b->rank;
      if (LayerKey(*a) != LayerKey(*b)) return LayerKey(*a) < LayerKey(*b);
      return a->order < b->order;
    });
    for (Unit *unit : optional) {
      uint64_t need = NewGpuBytes(*unit);
      bool fits = need <= left;
      Place(*unit, fits,
            Describe(*unit) + ": " + Bytes(need) + (fits ? " fit" : " do not fit") +
                " in the " + Bytes(left) + " left");
      if (fits) left -= need;
    }
  }

  // The residual stream lives with attention; argmax follows its logits.
  for (Operation *op : weightless_) {
    DeviceAttr device = *budget == 0 ? cpu_ : gpu_;
    std::string reason = *budget == 0 ? "vram=0: everything runs on the CPU"
                                      : "residual add: stays with the residual stream";
    if (auto argmax = llvm::dyn_cast<ArgmaxOp>(op)) {
      if (Operation *producer = argmax.getLogits().getDefiningOp())
        if (auto d = producer->getAttrOfType<DeviceAttr>(KtDialect::kDeviceAttrName))
          device = d;
      reason = "argmax: runs where its logits are";
    }
    op->setAttr(KtDialect::kDeviceAttrName, device);
    op->setAttr(KtDialect::kReasonAttrName, mlir::StringAttr::get(context, reason));
  }

  uint64_t gpu_bytes = 0, cpu_bytes = 0;
  for (WeightOp weight : module.getOps<WeightOp>()) {
    bool on_gpu = gpu_weights_.contains(weight.getOperation());
    weight->setAttr(KtDialect::kDeviceAttrName, on_gpu ? gpu_ : cpu_);
    (on_gpu ? gpu_bytes : cpu_bytes) += weight.getQType().getSizeInBytes();
  }
  mlir::Builder b(context);
  auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(static_cast<int64_t>(v)); };
  module->setAttr("kt.placement",
                  b.getDictionaryAttr({
                      b.getNamedAttr("vram", i64(*budget)),
                      b.getNamedAttr("min_vram", i64(min_vram)),
                      b.getNamedAttr("ctx", i64(ctx)),
                      b.getNamedAttr("kv_cache", i64(kv_cache)),
                      b.getNamedAttr("workspace", i64(workspace_bytes)),
                      b.getNamedAttr("gpu_weights", i64(gpu_bytes)),
                      b.getNamedAttr("cpu_weights", i64(cpu_bytes)),
                  }));
}

}  // namespace
}  // namespace kt
