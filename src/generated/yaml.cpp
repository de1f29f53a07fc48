#include "mlrepo/generated/yaml.hpp"

namespace mlrepo::generated {

Yaml& Yaml::line(int indent, std::string_view text) {
  out_.append(static_cast<size_t>(indent) * 2, ' ');
  out_.append(text);
  out_ += '\n';
  return *this;
}

Yaml& Yaml::lines(int indent, std::string_view text) {
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    line(indent, text.substr(start, end - start));
    start = end + 1;
  }
  return *this;
}

Yaml& Yaml::blank() {
  out_ += '\n';
  return *this;
}

std::string yaml_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

} // namespace mlrepo::generated
