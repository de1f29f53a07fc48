#include "mlrepo/build/content.hpp"

#include "mlrepo/util/fs.hpp"

namespace mlrepo::build {
namespace {

// A context's ignore file as git/'s path filter: it applies below the
// context only, and an ignored directory is still walked when an exception
// rule may bring something below it back.
class IgnoreFilter : public git::PathFilter {
public:
  IgnoreFilter(const DockerIgnore& ignore, const std::string& context) : ignore_(ignore), context_(context) {}
  bool may_apply(const std::string& dir) const override {
    return !ignore_.empty() && (util::path_within(dir, context_) || util::path_within(context_, dir));
  }
  bool skip_file(const std::string& path) const override {
    return project::ignored_in_context(ignore_, context_, path);
  }
  bool skip_dir(const std::string& path) const override { return skip_file(path) && !ignore_.has_exceptions(); }

private:
  const DockerIgnore& ignore_;
  const std::string& context_;
};

} // namespace

std::string ContentIds::id(const std::string& path, const DockerIgnore* ignore, const std::string& context) {
  if (!ignore)
    return tree_.id(path, nullptr);
  IgnoreFilter filter(*ignore, context);
  return tree_.id(path, &filter);
}

} // namespace mlrepo::build
