// Writer -> loader round trips: every manifest field and every byte comes
// back as written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "compiler/artifact/artifact_writer.h"
#include "compiler/artifact/sample_artifact.h"
#include "runtime/artifact/artifact.h"
#include "runtime/artifact/xxhash64.h"

namespace kt::artifact {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()) + ".kta")).string();
}

std::vector<uint8_t> Collect(const ByteSource& source) {
  std::vector<uint8_t> out;
  Status s = source([&](const void* p, uint64_t n) {
    out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
  return out;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(ArtifactWriter, RoundTripsEveryField) {
  const ArtifactContents c = SampleContents();
  const std::string path = TempPath("roundtrip");
  StatusOr<WriteResult> written = WriteArtifact(path, c);
  ASSERT_TRUE(written.ok()) << written.status().ToString();

  StatusOr<Artifact> art = Artifact::Open(path, {.verify_checksums = true});
  ASSERT_TRUE(art.ok()) << art.status().ToString();
  EXPECT_EQ(art->header(), written->header);
  EXPECT_EQ(art->manifest(), written->manifest);
  EXPECT_EQ(art->file_size(), std::filesystem::file_size(path));

  const Manifest& m = art->manifest();
  EXPECT_EQ(m.producer, c.producer);
  EXPECT_EQ(m.source, c.source);
  EXPECT_EQ(m.hparams, c.hparams);
  EXPECT_EQ(m.tokenizer, c.tokenizer);
  EXPECT_EQ(m.target, c.target);
  EXPECT_EQ(m.placement, c.placement);
  EXPECT_EQ(m.plans, c.plans);

  // One segment per (kind, device), each aligned, in file order.
  ASSERT_EQ(m.segments.size(), 3u);
  EXPECT_EQ(m.segments[0].kind, SegmentKind::kCpuWeights);
  EXPECT_EQ(m.segments[1].kind, SegmentKind::kGpuWeights);
  EXPECT_EQ(m.segments[2].kind, SegmentKind::kKernelImages);
  for (const Segment& s : m.segments) EXPECT_EQ(s.offset % 4096, 0u);

  ASSERT_EQ(m.tensors.size(), c.tensors.size());
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const TensorSpec& spec = c.tensors[i];
    const TensorInfo& t = m.tensors[i];
    EXPECT_EQ(t.name, spec.name);
    EXPECT_EQ(t.ggml_type, spec.ggml_type);
    EXPECT_EQ(t.shape, spec.shape);
    EXPECT_EQ(t.layout, spec.layout);
    EXPECT_EQ(t.layout_rows, spec.layout_rows);
    EXPECT_EQ(m.segments[t.segment].kind, spec.segment);
    const std::vector<uint8_t> want = Collect(spec.source);
    std::span<const uint8_t> got = art->TensorData(t);
    ASSERT_EQ(got.size(), want.size()) << t.name;
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << t.name;
    EXPECT_EQ(t.checksum, Xxh64Of(want.data(), want.size())) << t.name;
    EXPECT_EQ(art->FindTensor(t.name), &t);
  }
  EXPECT_EQ(art->FindTensor("no.such.tensor"), nullptr);

  ASSERT_EQ(m.kernels.size(), 1u);
  EXPECT_EQ(m.kernels[0].name, c.kernels[0].name);
  EXPECT_EQ(m.kernels[0].arch, c.kernels[0].arch);
  EXPECT_EQ(m.kernels[0].entry_points, c.kernels[0].entry_points);
  std::span<const uint8_t> image = art->KernelImageData(m.kernels[0]);
  EXPECT_TRUE(std::equal(image.begin(), image.end(), c.kernels[0].bytes.begin(), c.kernels[0].bytes.end()));

  ASSERT_NE(art->FindPlan("decode"), nullptr);
  EXPECT_EQ(art->FindPlan("decode")->steps.size(), 6u);
  EXPECT_EQ(art->FindPlan("nope"), nullptr);
  std::remove(path.c_str());
}

// A source may emit its bytes in any chunking; the file is the same.
TEST(ArtifactWriter, ChunkedSourcesGiveTheSameFile) {
  ArtifactContents whole = SampleContents();
  ArtifactContents chunked = SampleContents();
  for (TensorSpec& t : chunked.tensors) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(Collect(t.source));
    t.source = [bytes](const ByteSink& sink) -> Status {
      for (size_t pos = 0; pos < bytes->size(); pos += 7) {
        KT_RETURN_IF_ERROR(sink(bytes->data() + pos, std::min<size_t>(7, bytes->size() - pos)));
      }
      return Status::Ok();
    };
  }
  const std::string a = TempPath("whole"), b = TempPath("chunked");
  ASSERT_TRUE(WriteArtifact(a, whole).ok());
  uint64_t last_done = 0, calls = 0;
  WriteOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GT(done, last_done);
    EXPECT_LE(done, total);
    last_done = done;
    ++calls;
  };
  ASSERT_TRUE(WriteArtifact(b, chunked, options).ok());
  EXPECT_EQ(calls, chunked.tensors.size());
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST(ArtifactWriter, SourceThatEmitsTooLittleOrTooMuchIsAnError) {
  for (int64_t delta : {-1, +1}) {
    ArtifactContents c = SampleContents();
    std::vector<uint8_t> bytes = Collect(c.tensors[1].source);
    bytes.resize(bytes.size() + delta);
    c.tensors[1].source = BytesFromVector(bytes);
    const std::string path = TempPath("short");
    StatusOr<WriteResult> r = WriteArtifact(path, c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("tensor 'blk.0.attn_norm.weight'"), std::string::npos)
        << r.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST(ArtifactWriter, SourceErrorsPropagate) {
  ArtifactContents c = SampleContents();
  c.tensors[2].source = [](const ByteSink&) { return KT_ERROR(kIoError, "disk on fire"); };
  StatusOr<WriteResult> r = WriteArtifact(TempPath("ioerr"), c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("tensor 'blk.1.ffn_gate_exps.weight': disk on fire"), std::string::npos)
      << r.status().ToString();
}

// The writer runs the loader's semantic verifier before writing anything.
TEST(ArtifactWriter, RefusesInvalidContents) {
  ArtifactContents c = SampleContents();
  c.tensors[4].name = c.tensors[0].name;
  const std::string path = TempPath("dup");
  StatusOr<WriteResult> r = WriteArtifact(path, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate tensor name 'token_embd.weight'"), std::string::npos)
      << r.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(path));

  c = SampleContents();
  c.tensors[0].shape = {100, 8};  // not a multiple of the Q8_0 block
  r = WriteArtifact(path, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a multiple of the q8_0 block size 32"), std::string::npos)
      << r.status().ToString();

  c = SampleContents();
  c.plans[0].steps[0].tensors = {17};
  r = WriteArtifact(path, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("plan 'decode' step 0 (embed): tensors[0] = 17 does not resolve"),
            std::string::npos)
      << r.status().ToString();
}

TEST(ArtifactWriter, EmptyArtifactRoundTrips) {
  ArtifactContents c;
  c.hparams.architecture = "deepseek2";
  const std::string path = TempPath("empty");
  ASSERT_TRUE(WriteArtifact(path, c).ok());
  StatusOr<Artifact> art = Artifact::Open(path, {.verify_checksums = true});
  ASSERT_TRUE(art.ok()) << art.status().ToString();
  EXPECT_TRUE(art->manifest().tensors.empty());
  EXPECT_EQ(art->manifest().hparams.architecture, "deepseek2");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace kt::artifact
