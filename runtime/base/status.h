// Errors as values: Status and StatusOr<T>, propagated with KT_RETURN_IF_ERROR
// and KT_ASSIGN_OR_RETURN. Bad input is never a crash; it is a Status that
// says what was wrong and where (file offset, field name) plus the source
// location that produced it.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kt {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,   // a caller or user passed something malformed
  kNotFound,          // a file, key or tensor does not exist
  kDataLoss,          // input data is corrupt or truncated
  kOutOfRange,        // a value is outside what the format or limits allow
  kUnimplemented,     // valid input we do not support (yet)
  kResourceExhausted, // not enough memory, VRAM, disk
  kFailedPrecondition,// the machine or state does not fit (wrong ISA, no GPU)
  kIoError,           // the operating system refused an I/O operation
  kInternal,          // a broken internal invariant
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message, const char* file = nullptr, int line = 0)
      : code_(code), message_(std::move(message)), file_(file), line_(line) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const char* file() const { return file_; }
  int line() const { return line_; }

  // "data loss: tensor 'x' ends at 1234, past the file end 1000"
  std::string ToString() const;

  // Prepends context ("reading model.gguf: ") to the message.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  const char* file_ = nullptr;
  int line_ = 0;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : value_(std::move(status)) {}  // NOLINT: implicit on purpose
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const& {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(value_);
  }
  Status status() && { return ok() ? Status() : std::get<Status>(std::move(value_)); }

  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> value_;
};

// Concatenates anything that has an ostream operator<<.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace kt

#define KT_ERROR(code, ...) \
  ::kt::Status(::kt::StatusCode::code, ::kt::StrCat(__VA_ARGS__), __FILE__, __LINE__)

#define KT_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::kt::Status kt_status_ = (expr);         \
    if (!kt_status_.ok()) return kt_status_;  \
  } while (0)

#define KT_STATUS_CONCAT_INNER(a, b) a##b
#define KT_STATUS_CONCAT(a, b) KT_STATUS_CONCAT_INNER(a, b)

#define KT_ASSIGN_OR_RETURN(lhs, expr) \
  KT_ASSIGN_OR_RETURN_IMPL(KT_STATUS_CONCAT(kt_statusor_, __LINE__), lhs, expr)
#define KT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
