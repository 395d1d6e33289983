#include "runtime/artifact/verify.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_set>

#include "kernels/quant/ggml_type.h"

namespace kt::artifact {
namespace {

constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxSegmentAlignment = uint64_t{1} << 30;

template <typename T>
bool Known(T v) {
  return Name(v) != nullptr;
}

// a + b <= limit, without overflow.
bool FitsWithin(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

Status CheckDevice(const Device& d, const Target& target, std::string_view what) {
  if (!Known(d.kind)) {
    return KT_ERROR(kOutOfRange, what, ": unknown device kind ", int(d.kind));
  }
  if (d.kind == DeviceKind::kGpu && d.index >= target.gpu_count) {
    return KT_ERROR(kOutOfRange, what, ": device gpu:", d.index, " but target.gpu_count is ", target.gpu_count);
  }
  return Status::Ok();
}

Status VerifyHparams(const Hyperparameters& h) {
  if (!Known(h.expert_gating_func)) {
    return KT_ERROR(kOutOfRange, "hyperparameters.expert_gating_func: unknown value ", int(h.expert_gating_func));
  }
  if (!Known(h.rope_scaling_type)) {
    return KT_ERROR(kOutOfRange, "hyperparameters.rope_scaling_type: unknown value ", int(h.rope_scaling_type));
  }
  if (h.leading_dense_block_count > h.block_count) {
    return KT_ERROR(kDataLoss, "hyperparameters.leading_dense_block_count ", h.leading_dense_block_count,
                    " exceeds block_count ", h.block_count);
  }
  if (h.expert_used_count > h.expert_count) {
    return KT_ERROR(kDataLoss, "hyperparameters.expert_used_count ", h.expert_used_count,
                    " exceeds expert_count ", h.expert_count);
  }
  if (h.expert_group_used_count > h.expert_group_count) {
    return KT_ERROR(kDataLoss, "hyperparameters.expert_group_used_count ", h.expert_group_used_count,
                    " exceeds expert_group_count ", h.expert_group_count);
  }
  return Status::Ok();
}

Status VerifyTokenizer(const Tokenizer& t) {
  const uint64_t n = t.tokens.size();
  if (!t.token_types.empty() && t.token_types.size() != n) {
    return KT_ERROR(kDataLoss, "tokenizer.token_types has ", t.token_types.size(), " entries for ", n, " tokens");
  }
  for (auto [field, id] : {std::pair{"bos_token_id", t.bos_token_id}, std::pair{"eos_token_id", t.eos_token_id}}) {
    if (id < -1 || (id >= 0 && static_cast<uint64_t>(id) >= n)) {
      return KT_ERROR(kOutOfRange, "tokenizer.", field, " ", id, " is not a token id (", n, " tokens)");
    }
  }
  return Status::Ok();
}

Status VerifyTarget(const Target& t) {
  if (!Known(t.cpu_isa)) return KT_ERROR(kOutOfRange, "target.cpu_isa: unknown value ", int(t.cpu_isa));
  if (!Known(t.cpu_layout)) return KT_ERROR(kOutOfRange, "target.cpu_layout: unknown value ", int(t.cpu_layout));
  if (t.gpu_arch.empty() != (t.gpu_count == 0)) {
    return KT_ERROR(kDataLoss, "target: gpu_arch '", t.gpu_arch, "' and gpu_count ", t.gpu_count,
                    " disagree (both set or both empty)");
  }
  return Status::Ok();
}

Status VerifySegments(const Manifest& m, uint64_t segments_start, uint64_t file_size) {
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < m.segments.size(); ++i) {
    const Segment& s = m.segments[i];
    const std::string what = StrCat("segment ", i);
    if (!Known(s.kind)) return KT_ERROR(kOutOfRange, what, ": unknown kind ", int(s.kind));
    KT_RETURN_IF_ERROR(CheckDevice(s.device, m.target, what));
    const DeviceKind want = s.kind == SegmentKind::kCpuWeights ? DeviceKind::kCpu : DeviceKind::kGpu;
    if (s.device.kind != want) {
      return KT_ERROR(kDataLoss, what, " (", Name(s.kind), "): device is ", ToString(s.device), ", must be ",
                      Name(want));
    }
    if (s.alignment < kMinSegmentAlignment || s.alignment > kMaxSegmentAlignment ||
        (s.alignment & (s.alignment - 1)) != 0) {
      return KT_ERROR(kOutOfRange, what, ": alignment ", s.alignment,
                      " must be a power of two between 4096 and 2^30");
    }
    if (s.offset % s.alignment != 0) {
      return KT_ERROR(kOutOfRange, what, ": offset ", s.offset, " is not aligned to ", s.alignment);
    }
    if (s.offset < segments_start) {
      return KT_ERROR(kOutOfRange, what, ": offset ", s.offset, " overlaps the header or manifest (which end at ",
                      segments_start, ")");
    }
    if (!FitsWithin(s.offset, s.length, file_size)) {
      return KT_ERROR(kOutOfRange, what, ": offset ", s.offset, " + length ", s.length,
                      " is past the end of the file (", file_size, " bytes)");
    }
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return m.segments[a].offset < m.segments[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const Segment& prev = m.segments[order[k - 1]];
    const Segment& cur = m.segments[order[k]];
    if (prev.offset + prev.length > cur.offset) {  // both verified to fit in the file
      return KT_ERROR(kOutOfRange, "segments ", order[k - 1], " [", prev.offset, ", ", prev.offset + prev.length,
                      ") and ", order[k], " [", cur.offset, ", ", cur.offset + cur.length, ") overlap");
    }
  }
  return Status::Ok();
}

// The ggml byte size of `shape`, or an error naming the tensor.
StatusOr<uint64_t> GgmlBytes(const TensorInfo& t) {
  const quant::GgmlTypeInfo* type = quant::FindGgmlType(t.ggml_type);
  if (!type) return KT_ERROR(kOutOfRange, "tensor '", t.name, "': unknown ggml_type ", t.ggml_type);
  if (t.shape.empty() || t.shape.size() > kMaxDims) {
    return KT_ERROR(kDataLoss, "tensor '", t.name, "': shape has ", t.shape.size(), " dims, must have 1 to ",
                    kMaxDims);
  }
  for (size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] == 0) return KT_ERROR(kDataLoss, "tensor '", t.name, "': shape[", d, "] is 0");
  }
  std::optional<uint64_t> bytes = quant::RowBytes(type->type, t.shape[0]);
  if (!bytes) {
    return KT_ERROR(kDataLoss, "tensor '", t.name, "': shape[0] ", t.shape[0], " is not a multiple of the ",
                    type->name, " block size ", type->block_elems);
  }
  for (size_t d = 1; d < t.shape.size(); ++d) {
    if (*bytes != 0 && t.shape[d] > UINT64_MAX / *bytes) {
      return KT_ERROR(kOutOfRange, "tensor '", t.name, "': byte size of the shape overflows 64 bits");
    }
    *bytes *= t.shape[d];
  }
  return *bytes;
}

struct Extent {
  uint64_t begin, end;
  const std::string* name;
};

Status CheckNoOverlap(std::vector<Extent>& extents, uint32_t segment) {
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < extents.size(); ++k) {
    if (extents[k - 1].end > extents[k].begin) {
      return KT_ERROR(kOutOfRange, "'", *extents[k - 1].name, "' [", extents[k - 1].begin, ", ", extents[k - 1].end,
                      ") and '", *extents[k].name, "' [", extents[k].begin, ", ", extents[k].end,
                      ") overlap in segment ", segment);
    }
  }
  return Status::Ok();
}

Status VerifyTensors(const Manifest& m, std::vector<std::vector<Extent>>& extents) {
  std::unordered_set<std::string_view> names;
  for (const TensorInfo& t : m.tensors) {
    if (t.name.empty()) return KT_ERROR(kDataLoss, "a tensor has an empty name");
    if (!names.insert(t.name).second) return KT_ERROR(kDataLoss, "duplicate tensor name '", t.name, "'");
    if (t.segment >= m.segments.size()) {
      return KT_ERROR(kOutOfRange, "tensor '", t.name, "': segment ", t.segment, " does not exist (",
                      m.segments.size(), " segments)");
    }
    const Segment& seg = m.segments[t.segment];
    if (seg.kind == SegmentKind::kKernelImages) {
      return KT_ERROR(kDataLoss, "tensor '", t.name, "': segment ", t.segment, " holds kernel images, not weights");
    }
    if (!Known(t.layout)) return KT_ERROR(kOutOfRange, "tensor '", t.name, "': unknown layout ", int(t.layout));
    if (t.layout == TensorLayout::kCpuRowInterleaved && t.layout_rows == 0) {
      return KT_ERROR(kDataLoss, "tensor '", t.name, "': layout cpu_row_interleaved needs layout_rows > 0");
    }
    if (t.offset % kTensorAlignment != 0) {
      return KT_ERROR(kOutOfRange, "tensor '", t.name, "': offset ", t.offset, " is not a multiple of ",
                      kTensorAlignment);
    }
    if (!FitsWithin(t.offset, t.length, seg.length)) {
      return KT_ERROR(kOutOfRange, "tensor '", t.name, "': offset ", t.offset, " + length ", t.length,
                      " is past the end of segment ", t.segment, " (", seg.length, " bytes)");
    }
    KT_ASSIGN_OR_RETURN(uint64_t expected, GgmlBytes(t));
    if (t.length != expected) {
      const quant::GgmlTypeInfo* type = quant::FindGgmlType(t.ggml_type);
      std::string shape;
      for (size_t d = 0; d < t.shape.size(); ++d) shape += StrCat(d ? "x" : "", t.shape[d]);
      return KT_ERROR(kDataLoss, "tensor '", t.name, "': length ", t.length, " does not match ", type->name, " ",
                      shape, " (", expected, " bytes)");
    }
    extents[t.segment].push_back(Extent{t.offset, t.offset + t.length, &t.name});
  }
  return Status::Ok();
}

Status VerifyKernels(const Manifest& m, std::vector<std::vector<Extent>>& extents) {
  std::unordered_set<std::string_view> names;
  for (const KernelImage& k : m.kernels) {
    if (k.name.empty()) return KT_ERROR(kDataLoss, "a kernel image has an empty name");
    if (!names.insert(k.name).second) return KT_ERROR(kDataLoss, "duplicate kernel image name '", k.name, "'");
    if (!Known(k.format)) return KT_ERROR(kOutOfRange, "kernel image '", k.name, "': unknown format ", int(k.format));
    if (k.segment >= m.segments.size()) {
      return KT_ERROR(kOutOfRange, "kernel image '", k.name, "': segment ", k.segment, " does not exist");
    }
    const Segment& seg = m.segments[k.segment];
    if (seg.kind != SegmentKind::kKernelImages) {
      return KT_ERROR(kDataLoss, "kernel image '", k.name, "': segment ", k.segment, " is ", Name(seg.kind),
                      ", not kernel_images");
    }
    if (!FitsWithin(k.offset, k.length, seg.length)) {
      return KT_ERROR(kOutOfRange, "kernel image '", k.name, "': offset ", k.offset, " + length ", k.length,
                      " is past the end of segment ", k.segment, " (", seg.length, " bytes)");
    }
    extents[k.segment].push_back(Extent{k.offset, k.offset + k.length, &k.name});
  }
  return Status::Ok();
}

Status VerifyPlacement(const Manifest& m) {
  std::unordered_set<std::string_view> names;
  for (const PlacementRecord& p : m.placement) {
    if (p.name.empty()) return KT_ERROR(kDataLoss, "a placement record has an empty name");
    if (!names.insert(p.name).second) return KT_ERROR(kDataLoss, "duplicate placement op name '", p.name, "'");
    const std::string what = StrCat("placement '", p.name, "'");
    if (!Known(p.kind)) return KT_ERROR(kOutOfRange, what, ": unknown op kind ", int(p.kind));
    KT_RETURN_IF_ERROR(CheckDevice(p.device, m.target, what));
    if (p.layer < -1 || (p.layer >= 0 && static_cast<uint32_t>(p.layer) >= m.hparams.block_count)) {
      return KT_ERROR(kOutOfRange, what, ": layer ", p.layer, " is outside [-1, block_count ",
                      m.hparams.block_count, ")");
    }
    if (!std::isfinite(p.intensity) || p.intensity < 0) {
      return KT_ERROR(kOutOfRange, what, ": intensity ", p.intensity, " is not a finite non-negative number");
    }
  }
  return Status::Ok();
}

Status VerifyStep(const Manifest& m, const Step& s, const std::string& what) {
  if (!Known(s.kind)) return KT_ERROR(kOutOfRange, what, ": unknown step kind ", int(s.kind));
  KT_RETURN_IF_ERROR(CheckDevice(s.device, m.target, what));
  if (s.op < -1 || (s.op >= 0 && static_cast<uint64_t>(s.op) >= m.placement.size())) {
    return KT_ERROR(kDataLoss, what, ": op ", s.op, " does not resolve (", m.placement.size(),
                    " placement records)");
  }
  if (s.kernel_image < -1 || (s.kernel_image >= 0 && static_cast<uint64_t>(s.kernel_image) >= m.kernels.size())) {
    return KT_ERROR(kDataLoss, what, ": kernel_image ", s.kernel_image, " does not resolve (", m.kernels.size(),
                    " kernel images)");
  }
  for (size_t r = 0; r < s.tensors.size(); ++r) {
    if (s.tensors[r] >= m.tensors.size()) {
      return KT_ERROR(kDataLoss, what, ": tensors[", r, "] = ", s.tensors[r], " does not resolve (",
                      m.tensors.size(), " tensors)");
    }
  }
  switch (s.kind) {
    case StepKind::kGpuKernel:
      if (s.device.kind != DeviceKind::kGpu) {
        return KT_ERROR(kDataLoss, what, ": gpu_kernel step on device ", ToString(s.device));
      }
      if (s.kernel_name.empty()) return KT_ERROR(kDataLoss, what, ": gpu_kernel step without kernel_name");
      if (s.kernel_image >= 0) {
        const KernelImage& k = m.kernels[s.kernel_image];
        if (!k.entry_points.empty() &&
            std::find(k.entry_points.begin(), k.entry_points.end(), s.kernel_name) == k.entry_points.end()) {
          return KT_ERROR(kDataLoss, what, ": kernel '", s.kernel_name, "' is not an entry point of kernel image '",
                          k.name, "'");
        }
      }
      break;
    case StepKind::kCpuOp:
      if (s.device.kind != DeviceKind::kCpu) {
        return KT_ERROR(kDataLoss, what, ": cpu_op step on device ", ToString(s.device));
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status VerifyPlans(const Manifest& m) {
  std::unordered_set<std::string_view> names;
  for (const Plan& plan : m.plans) {
    if (plan.name.empty()) return KT_ERROR(kDataLoss, "a plan has an empty name");
    if (!names.insert(plan.name).second) return KT_ERROR(kDataLoss, "duplicate plan name '", plan.name, "'");
    int64_t open_submits = 0;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step& s = plan.steps[i];
      std::string what = StrCat("plan '", plan.name, "' step ", i);
      if (s.op >= 0 && static_cast<uint64_t>(s.op) < m.placement.size()) {
        what += StrCat(" (", m.placement[s.op].name, ")");
      }
      KT_RETURN_IF_ERROR(VerifyStep(m, s, what));
      if (s.kind == StepKind::kHostSubmitExperts) ++open_submits;
      if (s.kind == StepKind::kHostJoinExperts && --open_submits < 0) {
        return KT_ERROR(kDataLoss, what, ": host_join_experts without a preceding host_submit_experts");
      }
    }
    if (open_submits != 0) {
      return KT_ERROR(kDataLoss, "plan '", plan.name, "': ", open_submits, " host_submit_experts never joined");
    }
  }
  return Status::Ok();
}

}  // namespace

Status VerifyManifest(const Manifest& m, uint64_t segments_start, uint64_t file_size) {
  KT_RETURN_IF_ERROR(VerifyTarget(m.target));
  KT_RETURN_IF_ERROR(VerifyHparams(m.hparams));
  KT_RETURN_IF_ERROR(VerifyTokenizer(m.tokenizer));
  KT_RETURN_IF_ERROR(VerifySegments(m, segments_start, file_size));
  std::vector<std::vector<Extent>> extents(m.segments.size());
  KT_RETURN_IF_ERROR(VerifyTensors(m, extents));
  KT_RETURN_IF_ERROR(VerifyKernels(m, extents));
  for (uint32_t i = 0; i < extents.size(); ++i) KT_RETURN_IF_ERROR(CheckNoOverlap(extents[i], i));
  KT_RETURN_IF_ERROR(VerifyPlacement(m));
  KT_RETURN_IF_ERROR(VerifyPlans(m));
  return Status::Ok();
}

}  // namespace kt::artifact
