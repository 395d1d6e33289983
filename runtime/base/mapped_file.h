// A read-only memory mapping of a whole file. Shared by the GGUF reader and
// the artifact loader. Errors name the path and what the OS said.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/base/status.h"

namespace kt {

class MappedFile {
 public:
  static StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // The mapping opens with a sequential-read hint (one front-to-back pass:
  // verification, checksums). Call this when that pass is over and the pages
  // will be read again and again (weights every token): a sequential hint
  // tells the kernel to reclaim pages right behind the reader, which under
  // page-cache pressure would push weights out between tokens.
  void AdviseReuse() const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace kt
