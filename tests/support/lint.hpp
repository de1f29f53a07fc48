#pragma once
#include "support/repo.hpp"

namespace mlrepo::test {

// actionlint (running shellcheck on every run: script) and zizmor, offline,
// over the repository's workflows: nothing at medium severity or above.
// Both come from 'scripts/bootstrap --test' (build/tools).
void expect_workflows_lint_clean(const GitRepo& r);
// zizmor over one action definition (action.yml).
void expect_action_lint_clean(const fs::path& action);

} // namespace mlrepo::test
