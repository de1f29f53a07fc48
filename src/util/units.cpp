#include "mlrepo/util/units.hpp"

#include <cctype>
#include <stdexcept>

namespace mlrepo::util {

std::int64_t parse_duration(const std::string& text) {
  auto bad = [&]() -> std::int64_t {
    throw std::invalid_argument("'" + text + "' is not a duration; write a number and a unit: 90s, 45m, 2h, 1h30m or 1d");
  };
  std::int64_t total = 0;
  size_t pos = 0;
  std::string seen;
  while (pos < text.size()) {
    size_t start = pos;
    std::int64_t n = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) && pos - start < 9)
      n = n * 10 + (text[pos++] - '0');
    if (pos == start || pos == text.size())
      return bad();
    char unit = text[pos++];
    std::int64_t scale = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
    // Units in falling order, each once: "1h30m", not "30m1h".
    if (!scale || (!seen.empty() && std::string("dhms").find(unit) <= std::string("dhms").find(seen.back())))
      return bad();
    seen += unit;
    total += n * scale;
  }
  if (text.empty())
    return bad();
  if (total <= 0)
    throw std::invalid_argument("'" + text + "' is no time at all; a duration is above zero");
  return total;
}

std::string format_duration(std::int64_t s) {
  std::string out;
  for (auto [unit, scale] : {std::pair{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}})
    if (s >= scale || (unit == 's' && out.empty())) {
      if (s / scale)
        out += std::to_string(s / scale) + unit;
      s %= scale;
    }
  return out.empty() ? "0s" : out;
}

Quantity parse_quantity(const std::string& text) {
  auto bad = [&]() -> Quantity {
    throw std::invalid_argument("'" + text +
                                "' is not a Kubernetes quantity; write a number with an optional suffix: "
                                "500m, 2, 1.5, 512Mi, 8Gi, 2G");
  };
  size_t pos = 0;
  std::int64_t whole = 0, frac = 0, frac_scale = 1;
  size_t start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) && pos - start < 12)
    whole = whole * 10 + (text[pos++] - '0');
  bool digits = pos > start;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t fs = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) && pos - fs < 9) {
      frac = frac * 10 + (text[pos++] - '0');
      frac_scale *= 10;
    }
    digits = digits || pos > fs;
  }
  if (!digits)
    return bad();
  std::string suffix = text.substr(pos);
  // value * 1000 = (whole + frac/frac_scale) * factor_num / factor_den, with factor in milli units.
  std::int64_t num = 0;
  if (suffix == "m")
    num = 1;
  else if (suffix.empty())
    num = 1000;
  else if (suffix == "k")
    num = 1000LL * 1000;
  else if (suffix == "M")
    num = 1000LL * 1000 * 1000;
  else if (suffix == "G")
    num = 1000LL * 1000 * 1000 * 1000;
  else if (suffix == "T")
    num = 1000LL * 1000 * 1000 * 1000 * 1000;
  else if (suffix == "Ki")
    num = 1000LL << 10;
  else if (suffix == "Mi")
    num = 1000LL << 20;
  else if (suffix == "Gi")
    num = 1000LL << 30;
  else if (suffix == "Ti")
    num = 1000LL << 40;
  else
    return bad();
  // whole has at most 12 digits and num at most 1e15 * 1000, so the products
  // can overflow 64 bits: checked arithmetic says "too large" instead.
  std::int64_t whole_part = 0, frac_part = 0, value = 0;
  if (__builtin_mul_overflow(whole, num, &whole_part) || __builtin_mul_overflow(frac, num, &frac_part) ||
      __builtin_add_overflow(whole_part, frac_part / frac_scale, &value) || value > INT64_MAX / 2)
    throw std::invalid_argument("'" + text + "' is larger than any machine");
  if (frac_part % frac_scale != 0)
    throw std::invalid_argument("'" + text + "' is finer than Kubernetes keeps (1m, a thousandth)");
  return {text, value};
}

} // namespace mlrepo::util
