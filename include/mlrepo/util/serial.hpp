#pragma once
// A compact binary encoding for caches: varints and length-prefixed strings,
// framed by a magic line and a checksum so damaged files are recognised.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::util {

// A fast checksum (not a cryptographic hash) that catches damaged files.
uint64_t checksum64(std::string_view data);

class ByteWriter {
public:
  void u(uint64_t v);
  void s(std::string_view v);
  void strings(const std::vector<std::string>& v);
  void map(const std::map<std::string, std::string>& m);
  void opt(const std::optional<std::string>& v);
  std::string out;
};

// Reading never goes past the end: a damaged input only turns ok() false.
class ByteReader {
public:
  explicit ByteReader(std::string_view data) : d_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == d_.size(); }
  uint64_t u();
  std::string s();
  std::vector<std::string> strings();
  std::map<std::string, std::string> map();
  std::optional<std::string> opt();
  // A count of elements, each taking at least a byte: larger means damage.
  size_t bounded(uint64_t n);
  // Marks the input damaged (a value out of range); returns 0.
  uint64_t fail();

private:
  std::string_view d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// magic + payload + checksum, and back (nullopt for anything else).
std::string frame(std::string_view magic, std::string_view payload);
std::optional<std::string_view> unframe(std::string_view magic, std::string_view data);

} // namespace mlrepo::util
