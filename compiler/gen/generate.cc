// GenerateModel: plan, metadata, then tensor data generated and quantized in
// row chunks by a few threads and streamed to the writer in file order, so
// peak memory is a few chunks whatever the model size.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "compiler/gen/gen_internal.h"
#include "compiler/gen/prng.h"
#include "kernels/quant/quant.h"

namespace kt::gen {
namespace {

constexpr uint64_t kChunkElems = uint64_t{1} << 22;  // 16 MiB of floats per worker

float InitScale(const TensorPlan& t) {
  switch (t.init) {
    case Init::kMatrix: return 1.0f / std::sqrt(static_cast<float>(t.ne[0]));
    case Init::kResidualOut: return 0.25f / std::sqrt(static_cast<float>(t.ne[0]));
    case Init::kOutput: return 4.0f / std::sqrt(static_cast<float>(t.ne[0]));
    case Init::kEmbed: return 1.0f;
    case Init::kNorm: return 0.05f;
    case Init::kBias: return 0.01f;
  }
  return 1.0f;
}

}  // namespace

std::string DefaultConfigPath(const std::string& gguf_path) {
  std::string stem = gguf_path;
  const std::string ext = ".gguf";
  if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0) {
    stem.resize(stem.size() - ext.size());
  }
  return stem + ".config.json";
}

bool FillRows(const TensorPlan& t, uint64_t seed, uint64_t row_begin, uint64_t row_end, uint8_t* dst) {
  const uint64_t n = t.ne[0];
  const uint64_t row_bytes = quant::RowBytes(t.type, n).value_or(0);
  const uint64_t name_hash = HashName(t.name);
  const float scale = InitScale(t);
  const float offset = t.init == Init::kNorm ? 1.0f : 0.0f;
  std::vector<float> row(n);
  for (uint64_t r = row_begin; r < row_end; ++r) {
    RowRng rng(seed, name_hash, r);
    for (uint64_t i = 0; i < n; ++i) row[i] = offset + scale * rng.Normal();
    uint8_t* out = dst + (r - row_begin) * row_bytes;
    if (t.type == quant::GgmlType::kF32) {
      std::memcpy(out, row.data(), n * sizeof(float));
    } else if (!quant::QuantizeRow(t.type, row.data(), out, static_cast<int64_t>(n))) {
      return false;
    }
  }
  return true;
}

StatusOr<ModelSpec> ResolveSpec(const GenOptions& o) {
  ModelSpec spec;
  if (o.spec) {
    spec = *o.spec;
  } else {
    std::optional<ModelSpec> p = FindPreset(o.preset);
    if (!p) {
      std::string names;
      for (const std::string& n : PresetNames()) names += (names.empty() ? "" : ", ") + n;
      return KT_ERROR(kInvalidArgument, "unknown preset '", o.preset, "' (known: ", names, ")");
    }
    spec = *p;
  }
  if (o.layers) OverrideLayers(spec, *o.layers);
  if (o.vocab) spec.vocab_size = *o.vocab;
  if (o.legacy_kv_b) spec.legacy_kv_b = true;
  KT_RETURN_IF_ERROR(ValidateSpec(spec));
  return spec;
}

Status GenerateModel(const GenOptions& o) {
  if (o.output.empty()) return KT_ERROR(kInvalidArgument, "no output path given");
  KT_ASSIGN_OR_RETURN(ModelSpec spec, ResolveSpec(o));
  KT_ASSIGN_OR_RETURN(Vocab vocab, BuildVocab(spec.bpe_merges, spec.vocab_size));
  KT_ASSIGN_OR_RETURN(std::vector<TensorPlan> plan,
                      PlanTensors(spec, static_cast<uint32_t>(vocab.tokens.size()), o.type));

  gguf::GgufWriter w;
  AddModelKvs(w, spec, vocab, o.type);
  uint64_t total = 0;
  for (const TensorPlan& t : plan) {
    KT_RETURN_IF_ERROR(w.AddTensor(t.name, t.type, t.ne));
    total += t.n_bytes();
  }
  KT_RETURN_IF_ERROR(w.Open(o.output));

  const unsigned n_threads = std::max(1u, o.threads ? o.threads : std::thread::hardware_concurrency());
  const auto start = std::chrono::steady_clock::now();

  // Every tensor is cut into row chunks; workers fill chunks in any order
  // but at most `window` ahead of the one being written, so memory stays at
  // `window` chunks while the writer (this thread) never waits for a round.
  struct Chunk {
    size_t tensor;
    uint64_t row_begin, row_end;
  };
  std::vector<Chunk> chunks;
  for (size_t ti = 0; ti < plan.size(); ++ti) {
    const uint64_t rows = plan[ti].rows();
    const uint64_t per_chunk = std::max<uint64_t>(1, kChunkElems / plan[ti].ne[0]);
    for (uint64_t r = 0; r < rows; r += per_chunk) chunks.push_back({ti, r, std::min(rows, r + per_chunk)});
  }
  const size_t window = 2 * size_t{n_threads};
  struct Slot {
    std::vector<uint8_t> data;
    bool ready = false;
    bool ok = true;
  };
  std::vector<Slot> slots(window);
  std::mutex mu;
  std::condition_variable cv;
  size_t next_job = 0;   // next chunk a worker takes
  size_t written = 0;    // chunks the writer has finished
  bool abort = false;

  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return abort || next_job >= chunks.size() || next_job < written + window; });
        if (abort || next_job >= chunks.size()) return;
        i = next_job++;
      }
      const Chunk& c = chunks[i];
      const TensorPlan& t = plan[c.tensor];
      std::vector<uint8_t> buf((c.row_end - c.row_begin) * quant::RowBytes(t.type, t.ne[0]).value_or(0));
      const bool ok = FillRows(t, o.seed, c.row_begin, c.row_end, buf.data());
      {
        std::lock_guard<std::mutex> lock(mu);
        Slot& s = slots[i % window];
        s.data = std::move(buf);
        s.ok = ok;
        s.ready = true;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (unsigned k = 0; k < n_threads; ++k) workers.emplace_back(worker);
  auto stop = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      abort = true;
    }
    cv.notify_all();
    for (std::thread& th : workers) th.join();
  };

  uint64_t done = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::vector<uint8_t> data;
    bool ok;
    {
      std::unique_lock<std::mutex> lock(mu);
      Slot& s = slots[i % window];
      cv.wait(lock, [&] { return s.ready; });
      data = std::move(s.data);
      ok = s.ok;
      s.ready = false;
    }
    const TensorPlan& t = plan[chunks[i].tensor];
    if (!ok) {
      stop();
      return KT_ERROR(kUnimplemented, "tensor ", t.name, ": no quantizer for type ",
                      quant::GgmlTypeInfoOf(t.type).name);
    }
    if (Status st = w.WriteTensorData(data.data(), data.size()); !st.ok()) {
      stop();
      return st;
    }
    done += data.size();
    {
      std::lock_guard<std::mutex> lock(mu);
      written = i + 1;
    }
    cv.notify_all();
    if (o.progress) {
      GenProgress p;
      p.tensor_index = chunks[i].tensor;
      p.n_tensors = plan.size();
      p.tensor_name = t.name;
      p.bytes_done = done;
      p.bytes_total = total;
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      o.progress(p);
    }
  }
  stop();
  KT_RETURN_IF_ERROR(w.Close());

  if (o.config_out != "-") {
    const std::string path = o.config_out.empty() ? DefaultConfigPath(o.output) : o.config_out;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
    if (!f) return KT_ERROR(kIoError, "cannot create ", path);
    const std::string json = ConfigJson(spec, vocab);
    if (std::fwrite(json.data(), 1, json.size(), f.get()) != json.size()) {
      return KT_ERROR(kIoError, "cannot write ", path);
    }
  }
  return Status::Ok();
}

}  // namespace kt::gen
