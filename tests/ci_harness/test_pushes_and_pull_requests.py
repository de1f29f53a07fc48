"""The generated matrix workflow on pushes and pull requests, run by the local
harness (runner.py) on the example monorepo against the real Docker engine and
a real registry. The docker wrapper's log of every engine call is the oracle
for what was built, pushed and run; the registry's storage for digests and
tags.

The first push to main builds everything; then a pull request touching the
shared library, the merge queue checking it and its merge (one story: each
step needs the one before); then, each from the built main: a push touching
one leaf project, a push changing nothing buildable, pull requests from a fork,
from Dependabot and one breaking a test, and a build secret on main and on a
fork.
"""

import hashlib
import os

import pytest

from world import PROJECTS, STANDIN, TESTED, assert_tested_pushed_digests, sh, summaries

def test_first_push_builds_everything_once_in_dependency_order(world, first_run):
    run = first_run
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {p: 1 for p in PROJECTS}, run.explain()
    order = run.build_order()
    assert order[0] == "python-base", run.explain()  # depth 0 before depth 1
    assert run.job("build-0") == "success" and run.job("build-1") == "success", run.explain()
    assert_tested_pushed_digests(world, run, TESTED, world.head())
    # Promotion: commit tag and latest, registry-side; nothing built or pulled.
    assert run.job("promote") == "success", run.explain()
    assert run.engine_work("promote") == [], run.explain()
    for project in PROJECTS:
        content = world.tag_digest(project, world.content_tag(project, world.head()))
        assert world.tag_digest(project, world.head()) == content
        assert world.tag_digest(project, "latest") == content
    assert "@sha256:" in summaries(run, "build-"), "the job summary names the digest tested"


@pytest.mark.story
def test_pull_request_touching_the_shared_library(main_built):
    world = main_built
    world.git("checkout", "-q", "-b", "clip-floats")
    world.commit("mlcommon: a new feature", {"libs/mlcommon/mlcommon/features.py": "\n\ndef scale(x):\n    return x\n"})
    latest_before = world.tag_digest("churn-model", "latest")
    run = world.pull_request(1, "clip-floats")
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()  # only what uses libs/mlcommon
    assert_tested_pushed_digests(world, run, ["churn-model"], world.last_merge)
    assert run.job("promote") == "skipped", run.explain()
    assert world.tag_digest("churn-model", "latest") == latest_before, "a pull request never moves latest"
    world.pr_merge = world.last_merge


@pytest.mark.story
def test_merge_queue_checks_like_a_pull_request(world):
    # The queue tests the pull request merged onto main, under a temporary branch.
    ref = "refs/heads/gh-readonly-queue/main/pr-1-" + world.head("main")
    sh(["git", "--git-dir", world.origin, "update-ref", ref, world.pr_merge])
    base = sh(["git", "--git-dir", world.origin, "rev-parse", "refs/heads/main"]).strip()
    run = world.run("merge_group", {
        "action": "checks_requested",
        "merge_group": {"head_sha": world.pr_merge, "head_ref": ref, "base_sha": base, "base_ref": "refs/heads/main"},
        "repository": {"full_name": world.repository, "default_branch": "main"},
    }, world.pr_merge, ref)
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the pull request pushed this content already\n" + run.explain()
    assert_tested_pushed_digests(world, run, ["churn-model"], world.pr_merge)
    assert run.job("promote") == "skipped", run.explain()


@pytest.mark.story
def test_merge_to_main_builds_nothing_and_promotes(world):
    # GitHub's merge button: main becomes the pull request's merge commit.
    world.git("checkout", "-q", "main")
    world.git("fetch", "-q", world.origin, "refs/pull/1/merge")
    world.git("merge", "-q", "--ff-only", world.pr_merge)
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the pull request pushed this content already\n" + run.explain()
    assert run.job("promote") == "success", run.explain()
    assert run.engine_work("promote") == [], run.explain()  # registry-side: no pull, no build
    content = world.tag_digest("churn-model", world.content_tag("churn-model", world.head()))
    assert world.tag_digest("churn-model", "latest") == content
    assert world.tag_digest("churn-model", world.head()) == content
    # Tests still ran, against the pushed digest.
    assert_tested_pushed_digests(world, run, ["churn-model"], world.head())


def test_push_touching_one_leaf_project(main_built):
    world = main_built
    world.commit("forecast: a comment", {"projects/demand-forecast/src/forecast.py": "\n# horizon in days\n"})
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert run.job("build-0") == "skipped", run.explain()
    assert_tested_pushed_digests(world, run, ["demand-forecast"], world.head())


def test_push_changing_nothing_buildable(main_built):
    world = main_built
    world.commit("docs", {"README.md": "# the team's monorepo\n"})
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    assert all(run.job(j) == "skipped" for j in ("build-0", "build-1", "promote")), run.explain()
    assert run.calls == [], run.explain()


def test_fork_pull_request_builds_and_tests_without_pushing(main_built):
    world = main_built
    world.git("checkout", "-q", "-b", "fork-forecast", "main")
    world.commit("forecast: pin a library", {"projects/demand-forecast/requirements.txt": "holidays==0.40\n"})
    tags_before = {p: world.tags(p) for p in PROJECTS}
    run = world.pull_request(2, "fork-forecast", fork=True)
    assert run.job("gate") == "success", run.explain()
    # The unchanged base is pulled (a public registry), not built again.
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert all(args for _, args in run.calls), run.explain()
    verbs = {args[0] for _, args in run.calls}
    assert "push" not in verbs and "login" not in verbs, run.explain()
    assert {p: world.tags(p) for p in PROJECTS} == tags_before, "a fork's run wrote to the registry"
    tested = run.tested_images()["demand-forecast"]
    local = f"{world.image('demand-forecast')}:{world.content_tag('demand-forecast', world.last_merge)}"
    assert tested == [local], run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-1") for s in i.steps)
    assert "not pushed: a pull request from a fork" in logs, run.explain()


def test_dependabot_pull_request_does_not_try_to_push(main_built):
    world = main_built
    world.git("checkout", "-q", "-b", "dependabot/pip/holidays", "main")
    world.commit("Bump holidays", {"projects/demand-forecast/requirements.txt": "holidays==0.41\n"})
    run = world.pull_request(4, "dependabot/pip/holidays", actor="dependabot[bot]")
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    verbs = {args[0] for _, args in run.calls}
    assert "push" not in verbs and "login" not in verbs, run.explain()


def test_pull_request_that_breaks_a_test_fails_the_gate(main_built):
    world = main_built
    world.git("checkout", "-q", "-b", "broken", "main")
    path = os.path.join(world.work, "projects/churn-model/tests/test_train.py")
    with open(path, "w") as f:
        f.write("# every test removed by mistake\n")
    world.git("commit", "-q", "-am", "churn: remove the tests")
    run = world.pull_request(3, "broken")
    assert run.job("build-1") == "failure", run.explain()
    assert run.job("gate") == "failure", run.explain()
    assert run.job("promote") == "skipped", run.explain()


def test_build_secret_reaches_the_build_and_a_fork_is_told_which_it_lacks(main_built):
    world = main_built
    # A project whose build reads a token (a model hub's, say) as a BuildKit
    # secret: the generated workflow passes it from the CI secret named in
    # ci.secrets to the build step only.
    world.git("checkout", "-q", "main")
    # The build checks the value by its hash: the Dockerfile never spells it.
    digest = hashlib.md5(b"hf-secret-value").hexdigest()
    world.commit("train: a build that needs a token", {
        "projects/tokened/Dockerfile": f"FROM {STANDIN}\n"
                                       "RUN --mount=type=secret,id=hf_token md5sum /run/secrets/hf_token"
                                       f" | grep -q ^{digest}\n",
        "projects/tokened/mlrepo.yaml": "secrets: {hf_token: HF_TOKEN}\nci:\n  secrets: {HF_TOKEN: HUGGINGFACE_TOKEN}\n",
    })
    sh([world.mlrepo, "ci", "generate"], cwd=world.work)
    world.git("add", "-A")
    world.git("commit", "-q", "-m", "Generated CI")
    world.runner.secrets = {**world.runner.secrets, "HUGGINGFACE_TOKEN": "hf-secret-value"}
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"tokened": 1}, run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-0") for s in i.steps)
    assert "hf-secret-value" not in logs and "hf-secret-value" not in open(world.docker_log).read()

    # A fork's pull request gets no secrets: the build that needs one fails
    # naming it; nothing else is asked of the fork.
    world.git("checkout", "-q", "-b", "fork-token", "main")
    world.commit("tokened: touch", {"projects/tokened/notes.txt": "x\n"})
    run = world.pull_request(5, "fork-token", fork=True)
    assert run.job("build-0") == "failure", run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-0") for s in i.steps)
    assert "a pull request from a fork" in logs and "HUGGINGFACE_TOKEN" in logs, run.explain()
    world.git("checkout", "-q", "main")


