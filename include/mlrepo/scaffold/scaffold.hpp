#pragma once
// `mlrepo new`: a project that builds, tests and has its workflow at once,
// from a built-in template or one in .mlrepo/templates/<T>/.
#include "mlrepo/git/repository.hpp"

#include <map>
#include <string>
#include <vector>

namespace mlrepo::scaffold {

struct TemplateFile {
  std::string path; // relative, may hold placeholders
  std::string content;
};

struct Template {
  std::string name;
  std::string description;
  bool builtin = true;
  std::vector<TemplateFile> files;
};

// Built-in templates, then the repository's (which override same-named ones).
std::vector<Template> available_templates(const git::Repository& repo);

// Fills {{ name }}, {{ path }}, {{ python_version }} and {{ module }}.
std::string fill(std::string_view text, const std::map<std::string, std::string>& values);

struct NewOptions {
  std::string target; // NAME or path, relative to cwd
  std::string cwd;    // absolute
  std::string template_name = "python";
  std::string python_version = "3.11";
  bool ci = true;
};

struct NewResult {
  std::string name;
  std::string path; // repo-relative
  std::vector<std::string> files; // repo-relative, created
  std::string workflow;           // repo-relative, empty with no_ci
};

// Creates the project atomically: on any failure nothing is left behind.
NewResult create_project(const git::Repository& repo, const NewOptions& options);

} // namespace mlrepo::scaffold
