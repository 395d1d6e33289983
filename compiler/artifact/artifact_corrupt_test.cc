// Corrupt and truncated artifacts: each one is rejected by the loader with
// its own status code and a message naming the field. The base image is a
// valid sample artifact; each case damages one thing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "compiler/artifact/artifact_writer.h"
#include "compiler/artifact/sample_artifact.h"
#include "runtime/artifact/artifact.h"
#include "runtime/artifact/header.h"
#include "runtime/artifact/manifest_codec.h"

namespace kt::artifact {
namespace {

class CorruptArtifact : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("corrupt." + std::to_string(::getpid()) + ".kta")).string();
    WriteOptions options;
    options.manifest_slack = 4096;  // room to re-encode edited manifests in place
    StatusOr<WriteResult> r = WriteArtifact(path, SampleContents(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::ifstream in(path, std::ios::binary);
    base_ = new std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
    std::remove(path.c_str());
  }
  static void TearDownTestSuite() { delete base_; }

  const std::vector<uint8_t>& base() { return *base_; }
  Header BaseHeader() { return ParseHeader(base().data(), base().size()).value(); }
  Manifest BaseManifest() {
    StatusOr<Artifact> art = Artifact::Parse(base().data(), base().size());
    EXPECT_TRUE(art.ok()) << art.status().ToString();
    return art->manifest();
  }

  static void PutHeader(std::vector<uint8_t>& img, const Header& h) {
    auto bytes = EncodeHeader(h);
    std::memcpy(img.data(), bytes.data(), bytes.size());
  }

  // The base image with `edit` applied to its manifest, re-encoded in place.
  std::vector<uint8_t> WithManifest(const std::function<void(Manifest&)>& edit) {
    Manifest m = BaseManifest();
    const uint64_t data_start = m.segments.empty() ? base().size() : m.segments[0].offset;
    edit(m);
    std::vector<uint8_t> encoded = EncodeManifest(m);
    std::vector<uint8_t> img = base();
    Header h = BaseHeader();
    EXPECT_LE(h.manifest_offset + encoded.size(), data_start);
    std::memset(img.data() + h.manifest_offset, 0, h.manifest_length);
    std::memcpy(img.data() + h.manifest_offset, encoded.data(), encoded.size());
    h.manifest_length = encoded.size();
    PutHeader(img, h);
    return img;
  }

  static void ExpectRejected(const std::vector<uint8_t>& img, StatusCode code, const std::string& text,
                             bool verify = false) {
    StatusOr<Artifact> art = Artifact::Parse(img.data(), img.size(), "bad.kta", {.verify_checksums = verify});
    ASSERT_FALSE(art.ok()) << "accepted; expected: " << text;
    EXPECT_EQ(art.status().code(), code) << art.status().ToString();
    EXPECT_NE(art.status().message().find(text), std::string::npos) << art.status().ToString();
    EXPECT_EQ(art.status().message().rfind("bad.kta: ", 0), 0u) << art.status().ToString();
  }

  static std::vector<uint8_t>* base_;
};
std::vector<uint8_t>* CorruptArtifact::base_ = nullptr;

TEST_F(CorruptArtifact, BaseIsValid) {
  StatusOr<Artifact> art = Artifact::Parse(base().data(), base().size(), "ok", {.verify_checksums = true});
  ASSERT_TRUE(art.ok()) << art.status().ToString();
  // Re-encoding an unchanged manifest must keep it valid, or every case
  // below would test the re-encoder instead of the damage.
  std::vector<uint8_t> same = WithManifest([](Manifest&) {});
  EXPECT_TRUE(Artifact::Parse(same.data(), same.size(), "ok", {.verify_checksums = true}).ok());
}

TEST_F(CorruptArtifact, BadMagic) {
  auto img = base();
  img[1] = 'X';
  ExpectRejected(img, StatusCode::kInvalidArgument, "bad magic");
}

TEST_F(CorruptArtifact, BadVersion) {
  auto img = base();
  Header h = BaseHeader();
  h.format_version = 7;
  PutHeader(img, h);
  ExpectRejected(img, StatusCode::kUnimplemented, "unsupported format_version 7");
}

TEST_F(CorruptArtifact, TruncatedHeader) {
  std::vector<uint8_t> img(base().begin(), base().begin() + 30);
  ExpectRejected(img, StatusCode::kDataLoss, "truncated header: the file has 30 bytes");
}

TEST_F(CorruptArtifact, HeaderChecksum) {
  auto img = base();
  img[33] ^= 0x10;  // file_size, without re-checksumming
  ExpectRejected(img, StatusCode::kDataLoss, "header_checksum mismatch");
}

TEST_F(CorruptArtifact, TruncatedFile) {
  std::vector<uint8_t> img(base().begin(), base().end() - 100);
  ExpectRejected(img, StatusCode::kDataLoss, "file_size mismatch");
}

TEST_F(CorruptArtifact, ManifestLengthPastEof) {
  auto img = base();
  Header h = BaseHeader();
  h.manifest_length = img.size();
  PutHeader(img, h);
  ExpectRejected(img, StatusCode::kOutOfRange, "is past the end of the file");
}

TEST_F(CorruptArtifact, ManifestSizePrefixDisagrees) {
  auto img = base();
  Header h = BaseHeader();
  h.manifest_length += 8;
  PutHeader(img, h);
  ExpectRejected(img, StatusCode::kDataLoss, "manifest size prefix says");
}

TEST_F(CorruptArtifact, WrongFileIdentifier) {
  auto img = base();
  img[BaseHeader().manifest_offset + 8 + 3] = '9';  // "KTA1" -> "KTA9"
  ExpectRejected(img, StatusCode::kDataLoss, "file_identifier is not \"KTA1\"");
}

TEST_F(CorruptArtifact, FlatBufferGarbage) {
  auto img = base();
  const Header h = BaseHeader();
  const uint32_t root = 0xFFFFFF00u;  // root table offset far outside the buffer
  std::memcpy(img.data() + h.manifest_offset + 4, &root, 4);
  ExpectRejected(img, StatusCode::kDataLoss, "FlatBuffers verifier");

  // Scribble over the body (keeping prefix, root offset and identifier).
  img = base();
  for (uint64_t i = 12; i < h.manifest_length; ++i) img[h.manifest_offset + i] = static_cast<uint8_t>(i * 97);
  ExpectRejected(img, StatusCode::kDataLoss, "FlatBuffers verifier");
}

TEST_F(CorruptArtifact, TensorOffsetPastSegment) {
  auto img = WithManifest([](Manifest& m) { m.tensors[1].offset = m.segments[m.tensors[1].segment].length; });
  ExpectRejected(img, StatusCode::kOutOfRange, "tensor 'blk.0.attn_norm.weight': offset");
  img = WithManifest([](Manifest& m) { m.tensors[1].offset = UINT64_MAX - 63; });  // offset + length overflows
  ExpectRejected(img, StatusCode::kOutOfRange, "past the end of segment");
}

TEST_F(CorruptArtifact, TensorMisaligned) {
  auto img = WithManifest([](Manifest& m) { m.tensors[0].offset += 4; });
  ExpectRejected(img, StatusCode::kOutOfRange, "tensor 'token_embd.weight': offset 4 is not a multiple of 64");
}

TEST_F(CorruptArtifact, SegmentPastEof) {
  auto img = WithManifest([](Manifest& m) { m.segments.back().length += 1; });
  ExpectRejected(img, StatusCode::kOutOfRange, "segment 2: offset");
  img = WithManifest([](Manifest& m) { m.segments.back().length = UINT64_MAX; });
  ExpectRejected(img, StatusCode::kOutOfRange, "is past the end of the file");
}

TEST_F(CorruptArtifact, OverlappingSegments) {
  auto img = WithManifest([](Manifest& m) { m.segments[1].offset = m.segments[0].offset; });
  ExpectRejected(img, StatusCode::kOutOfRange, "segments 0 [");
  ExpectRejected(img, StatusCode::kOutOfRange, "overlap");
}

TEST_F(CorruptArtifact, MisalignedSegment) {
  auto img = WithManifest([](Manifest& m) { m.segments[1].offset += 64; });
  ExpectRejected(img, StatusCode::kOutOfRange, "segment 1: offset");
  ExpectRejected(img, StatusCode::kOutOfRange, "is not aligned to 4096");
  img = WithManifest([](Manifest& m) { m.segments[0].alignment = 4095; });
  ExpectRejected(img, StatusCode::kOutOfRange, "segment 0: alignment 4095 must be a power of two");
}

TEST_F(CorruptArtifact, SegmentOverlapsManifest) {
  auto img = WithManifest([](Manifest& m) { m.segments[0].offset = 0; });
  ExpectRejected(img, StatusCode::kOutOfRange, "overlaps the header or manifest");
}

TEST_F(CorruptArtifact, TensorsOverlapEachOther) {
  auto img = WithManifest([](Manifest& m) { m.tensors[4].offset = m.tensors[0].offset; });
  ExpectRejected(img, StatusCode::kOutOfRange, "'token_embd.weight' [");
  ExpectRejected(img, StatusCode::kOutOfRange, "overlap in segment 1");
}

TEST_F(CorruptArtifact, BadChecksumWithVerify) {
  auto img = base();
  const Manifest m = BaseManifest();
  const TensorInfo& t = m.tensors[3];
  img[m.segments[t.segment].offset + t.offset + t.length / 2] ^= 0x01;
  // Without --verify the structure is fine and the load succeeds...
  EXPECT_TRUE(Artifact::Parse(img.data(), img.size(), "bad.kta").ok());
  // ...with it, the damaged tensor is named.
  ExpectRejected(img, StatusCode::kDataLoss, "tensor 'blk.1.ffn_down_exps.weight': checksum mismatch", true);
}

TEST_F(CorruptArtifact, BadKernelImageChecksum) {
  auto img = base();
  const Manifest m = BaseManifest();
  img[m.segments[m.kernels[0].segment].offset + m.kernels[0].offset] ^= 0x80;
  ExpectRejected(img, StatusCode::kDataLoss, "kernel image 'mla_decode': checksum mismatch", true);
}

TEST_F(CorruptArtifact, UnresolvedPlanReferences) {
  auto img = WithManifest([](Manifest& m) { m.plans[0].steps[1].tensors.push_back(5); });
  ExpectRejected(img, StatusCode::kDataLoss,
                 "plan 'decode' step 1 (blk.0.attn): tensors[1] = 5 does not resolve (5 tensors)");
  img = WithManifest([](Manifest& m) { m.plans[1].steps[0].op = 4; });
  ExpectRejected(img, StatusCode::kDataLoss, "plan 'prefill' step 0: op 4 does not resolve");
  img = WithManifest([](Manifest& m) { m.plans[0].steps[0].kernel_image = 1; });
  ExpectRejected(img, StatusCode::kDataLoss, "kernel_image 1 does not resolve");
  img = WithManifest([](Manifest& m) { m.plans[0].steps[0].kernel_name = "kt_nonexistent"; });
  ExpectRejected(img, StatusCode::kDataLoss, "kernel 'kt_nonexistent' is not an entry point");
}

TEST_F(CorruptArtifact, UnjoinedExpertSubmit) {
  auto img = WithManifest([](Manifest& m) { m.plans[0].steps[3].kind = StepKind::kCopy; });
  ExpectRejected(img, StatusCode::kDataLoss, "plan 'decode': 1 host_submit_experts never joined");
}

TEST_F(CorruptArtifact, UnknownEnumValues) {
  auto img = WithManifest([](Manifest& m) { m.plans[0].steps[2].kind = static_cast<StepKind>(99); });
  ExpectRejected(img, StatusCode::kOutOfRange, "plan 'decode' step 2 (blk.1.experts): unknown step kind 99");
  img = WithManifest([](Manifest& m) { m.segments[0].kind = static_cast<SegmentKind>(7); });
  ExpectRejected(img, StatusCode::kOutOfRange, "segment 0: unknown kind 7");
  img = WithManifest([](Manifest& m) { m.tensors[2].layout = static_cast<TensorLayout>(200); });
  ExpectRejected(img, StatusCode::kOutOfRange, "tensor 'blk.1.ffn_gate_exps.weight': unknown layout 200");
  img = WithManifest([](Manifest& m) { m.tensors[0].ggml_type = 4; });
  ExpectRejected(img, StatusCode::kOutOfRange, "tensor 'token_embd.weight': unknown ggml_type 4");
  img = WithManifest([](Manifest& m) { m.target.cpu_isa = static_cast<CpuIsa>(50); });
  ExpectRejected(img, StatusCode::kOutOfRange, "target.cpu_isa: unknown value 50");
  img = WithManifest([](Manifest& m) { m.hparams.expert_gating_func = static_cast<GatingFunc>(3); });
  ExpectRejected(img, StatusCode::kOutOfRange, "hyperparameters.expert_gating_func: unknown value 3");
  img = WithManifest([](Manifest& m) { m.placement[1].device.kind = static_cast<DeviceKind>(9); });
  ExpectRejected(img, StatusCode::kOutOfRange, "placement 'blk.0.attn': unknown device kind 9");
}

TEST_F(CorruptArtifact, LengthShapeMismatch) {
  auto img = WithManifest([](Manifest& m) { m.tensors[0].shape = {256, 4}; });
  ExpectRejected(img, StatusCode::kDataLoss,
                 "tensor 'token_embd.weight': length 2176 does not match q8_0 256x4 (1088 bytes)");
  img = WithManifest([](Manifest& m) { m.tensors[2].shape = {200, 256, 4}; });
  ExpectRejected(img, StatusCode::kDataLoss, "shape[0] 200 is not a multiple of the q4_K block size 256");
  img = WithManifest([](Manifest& m) { m.tensors[1].shape = {}; });
  ExpectRejected(img, StatusCode::kDataLoss, "tensor 'blk.0.attn_norm.weight': shape has 0 dims");
  img = WithManifest([](Manifest& m) { m.tensors[1].shape = {256, 1ull << 40, 1ull << 40}; });
  ExpectRejected(img, StatusCode::kOutOfRange, "overflows 64 bits");
}

TEST_F(CorruptArtifact, DuplicateNames) {
  // Same length as the original, so the manifest keeps its size.
  auto img = WithManifest([](Manifest& m) { m.tensors[3].name = "blk.1.ffn_gate_exps.weight"; });
  ExpectRejected(img, StatusCode::kDataLoss, "duplicate tensor name 'blk.1.ffn_gate_exps.weight'");
  img = WithManifest([](Manifest& m) { m.plans[1].name = "decode"; });
  ExpectRejected(img, StatusCode::kDataLoss, "duplicate plan name 'decode'");
  img = WithManifest([](Manifest& m) { m.placement[3].name = "embed"; });
  ExpectRejected(img, StatusCode::kDataLoss, "duplicate placement op name 'embed'");
}

TEST_F(CorruptArtifact, DeviceOutsideTarget) {
  auto img = WithManifest([](Manifest& m) { m.placement[0].device.index = 3; });
  ExpectRejected(img, StatusCode::kOutOfRange, "placement 'embed': device gpu:3 but target.gpu_count is 1");
  img = WithManifest([](Manifest& m) { m.placement[0].layer = 2; });
  ExpectRejected(img, StatusCode::kOutOfRange, "placement 'embed': layer 2 is outside");
  img = WithManifest([](Manifest& m) { m.plans[0].steps[0].device = Device{DeviceKind::kCpu, 0}; });
  ExpectRejected(img, StatusCode::kDataLoss, "gpu_kernel step on device cpu:0");
}

TEST_F(CorruptArtifact, TokenizerInconsistent) {
  auto img = WithManifest([](Manifest& m) { m.tokenizer.eos_token_id = 8; });
  ExpectRejected(img, StatusCode::kOutOfRange, "tokenizer.eos_token_id 8 is not a token id (8 tokens)");
  img = WithManifest([](Manifest& m) { m.tokenizer.token_types.pop_back(); });
  ExpectRejected(img, StatusCode::kDataLoss, "tokenizer.token_types has 7 entries for 8 tokens");
}

// Every single-byte truncation point of the header and manifest is rejected
// (never a crash, never accepted).
TEST_F(CorruptArtifact, EveryTruncationIsRejected) {
  const Header h = BaseHeader();
  for (uint64_t n = 0; n < h.manifest_offset + h.manifest_length + 16; ++n) {
    std::vector<uint8_t> img(base().begin(), base().begin() + n);
    EXPECT_FALSE(Artifact::Parse(img.data(), img.size()).ok()) << n;
  }
}

}  // namespace
}  // namespace kt::artifact
