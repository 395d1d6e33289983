#include "runtime/base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kt {
namespace {

// Closes the descriptor on every path; the mapping stays valid after close.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

StatusOr<std::shared_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                  StrCat("cannot open '", path, "': ", std::strerror(err)), __FILE__, __LINE__);
  }
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return KT_ERROR(kIoError, "cannot stat '", path, "': ", std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return KT_ERROR(kInvalidArgument, "'", path, "' is not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  // mmap of length 0 fails with EINVAL; an empty file is a valid (empty) mapping.
  if (file->size_ == 0) return file;
  void* addr = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    return KT_ERROR(kIoError, "cannot map '", path, "' (", file->size_,
                    " bytes): ", std::strerror(errno));
  }
  // Weights are streamed once front to back at load time; the hint doubles
  // read-ahead. Failure only costs speed, so it is not an error.
  (void)::madvise(addr, file->size_, MADV_SEQUENTIAL);
  file->data_ = static_cast<const uint8_t*>(addr);
  return file;
}

void MappedFile::AdviseReuse() const {
  if (data_ != nullptr) (void)::madvise(const_cast<uint8_t*>(data_), size_, MADV_NORMAL);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace kt
