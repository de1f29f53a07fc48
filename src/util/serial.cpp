#include "mlrepo/util/serial.hpp"

#include <cstring>

namespace mlrepo::util {

uint64_t checksum64(std::string_view data) {
  // FNV-1a's constants, eight bytes per step: a damaged cache must be caught,
  // and a byte at a time cost a millisecond per megabyte on every warm run.
  uint64_t h = 1469598103934665603ull ^ data.size();
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 29;
  }
  for (; i < data.size(); ++i)
    h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  return h ^ (h >> 32);
}

void ByteWriter::u(uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void ByteWriter::s(std::string_view v) {
  u(v.size());
  out.append(v);
}

void ByteWriter::strings(const std::vector<std::string>& v) {
  u(v.size());
  for (const auto& x : v)
    s(x);
}

void ByteWriter::map(const std::map<std::string, std::string>& m) {
  u(m.size());
  for (const auto& [k, v] : m) {
    s(k);
    s(v);
  }
}

void ByteWriter::opt(const std::optional<std::string>& v) {
  u(v ? 1 : 0);
  if (v)
    s(*v);
}

uint64_t ByteReader::fail() {
  ok_ = false;
  pos_ = d_.size();
  return 0;
}

uint64_t ByteReader::u() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= d_.size())
      return fail();
    auto c = static_cast<unsigned char>(d_[pos_++]);
    v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80))
      return v;
  }
  return fail();
}

std::string ByteReader::s() {
  uint64_t n = u();
  if (!ok_ || n > d_.size() - pos_) {
    fail();
    return {};
  }
  std::string out(d_.substr(pos_, n));
  pos_ += n;
  return out;
}

size_t ByteReader::bounded(uint64_t n) {
  if (n > d_.size() - pos_)
    return fail(), 0;
  return static_cast<size_t>(n);
}

std::vector<std::string> ByteReader::strings() {
  std::vector<std::string> v(bounded(u()));
  for (auto& x : v)
    x = s();
  return v;
}

std::map<std::string, std::string> ByteReader::map() {
  std::map<std::string, std::string> m;
  for (size_t n = bounded(u()); n > 0 && ok_; --n) {
    auto k = s();
    m[k] = s();
  }
  return m;
}

std::optional<std::string> ByteReader::opt() {
  if (!u())
    return std::nullopt;
  return s();
}

std::string frame(std::string_view magic, std::string_view payload) {
  std::string out(magic);
  out.append(payload);
  uint64_t sum = checksum64(payload);
  out.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  return out;
}

std::optional<std::string_view> unframe(std::string_view magic, std::string_view data) {
  if (data.size() < magic.size() + 8 || data.substr(0, magic.size()) != magic)
    return std::nullopt;
  std::string_view payload = data.substr(magic.size(), data.size() - magic.size() - 8);
  uint64_t sum;
  std::memcpy(&sum, data.data() + data.size() - 8, 8);
  if (sum != checksum64(payload))
    return std::nullopt;
  return payload;
}

} // namespace mlrepo::util
