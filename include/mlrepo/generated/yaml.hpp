#pragma once
// Writing YAML that mlrepo generates (workflows, Kubernetes manifests) line
// by line, with every scalar from the outside single-quoted: the text is
// exactly what was meant, and the same input always gives the same bytes.
#include <string>
#include <string_view>

namespace mlrepo::generated {

class Yaml {
public:
  Yaml& line(int indent, std::string_view text); // two spaces per indent
  // Each line of `text` (a shell snippet) at one indent.
  Yaml& lines(int indent, std::string_view text);
  Yaml& blank();
  std::string str() const { return out_; }

private:
  std::string out_;
};

// A YAML single-quoted scalar: 'it''s'.
std::string yaml_quote(std::string_view s);

} // namespace mlrepo::generated
