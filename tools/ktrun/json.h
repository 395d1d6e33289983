// Minimal JSON output for ktrun's --json modes (strings escaped per RFC 8259;
// invalid UTF-8 bytes become U+FFFD so the output always parses).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kt::ktrun {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Number(double value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& IntArray(const std::vector<int32_t>& values);
  const std::string& str() const { return out_; }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace kt::ktrun
