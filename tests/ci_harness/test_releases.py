"""Releases: a `<name>/v<VERSION>` tag pushed as `mlrepo release --push` does,
on a main CI built. One story: a release, a pre-release, a release of an
unbuilt commit, an older patch from a branch, and one refused on main.
"""


import pytest


# Releases: a `<name>/v<VERSION>` tag pushed as `mlrepo release --push` does.

def release_summary(run):
    return "".join(i.summary for i in run.result.instances("release"))


@pytest.mark.story
def test_release_tag_promotes_the_tested_image_without_rebuilding(main_built):
    world = main_built
    world.git("checkout", "-q", "main")
    sha = world.head("main")
    content = world.tag_digest("churn-model", world.content_tag("churn-model", sha))
    assert content, "main's image was pushed by an earlier scenario"
    run = world.push_tag("churn-model/v1.0.0", sha)
    assert run.job("release") == "success", run.explain()
    assert run.job("changes") == "skipped" and run.job("promote") == "skipped", run.explain()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the tagged commit's image exists: nothing is rebuilt\n" + run.explain()
    for tag in ("1.0.0", "1.0", "1", "latest"):
        assert world.tag_digest("churn-model", tag) == content, tag + "\n" + run.explain()
    summary = release_summary(run)
    assert "Released churn-model 1.0.0" in summary and content in summary, summary
    assert "`1.0.0`, `1.0`, `1`, `latest`" in summary, summary
    # Only churn-model is released.
    assert "1.0.0" not in world.tags("demand-forecast")


@pytest.mark.story
def test_prerelease_tag_gets_its_own_tag_only(main_built):
    world = main_built
    before = {t: world.tag_digest("churn-model", t) for t in ("1", "1.0", "latest")}
    run = world.push_tag("churn-model/v1.1.0-rc.1", world.head("main"))
    assert run.job("release") == "success", run.explain()
    assert "1.1.0-rc.1" in world.tags("churn-model")
    assert "1.1" not in world.tags("churn-model")
    assert {t: world.tag_digest("churn-model", t) for t in before} == before, run.explain()


@pytest.mark.story
def test_release_tag_on_an_unbuilt_commit_builds_and_tests_it_first(main_built):
    world = main_built
    # A commit CI never saw (it is on no branch): the release job builds and
    # tests its image, then promotes it; latest moves to it (1.1.0 > 1.0.0).
    world.git("checkout", "-q", "-b", "hotfix", "main")
    sha = world.commit("churn: hotfix", {"projects/churn-model/src/churn/hotfix.py": "FIX = True\n"})
    run = world.push_tag("churn-model/v1.1.0", sha)
    world.git("checkout", "-q", "main")
    assert run.job("release") == "success", run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()
    content = world.tag_digest("churn-model", world.content_tag("churn-model", sha))
    assert content and "churn-model" in run.tested_images(), run.explain()
    assert any(content in ref for ref in run.tested_images()["churn-model"]), run.explain()
    for tag in ("1.1.0", "1.1", "1", "latest"):
        assert world.tag_digest("churn-model", tag) == content, tag + "\n" + run.explain()

    # An older patch afterwards, cut from a branch off churn-model/v1.0.0
    # (main holds 1.1.0-rc.1, so a 1.0.1 from main would carry 1.1's work):
    # 1.0 moves to it, latest and 1 stay on 1.1.0.
    world.git("checkout", "-q", "-b", "fix-1.0", "churn-model/v1.0.0")
    fix = world.commit("churn: fix for 1.0", {"projects/churn-model/src/churn/fix10.py": "FIX = 1\n"})
    run = world.push_tag("churn-model/v1.0.1", fix)
    world.git("checkout", "-q", "main")
    assert run.job("release") == "success", run.explain()
    assert world.tag_digest("churn-model", "latest") == content, run.explain()
    assert world.tag_digest("churn-model", "1") == content, run.explain()
    fixed = world.tag_digest("churn-model", world.content_tag("churn-model", fix))
    assert fixed and world.tag_digest("churn-model", "1.0.1") == fixed, run.explain()
    assert world.tag_digest("churn-model", "1.0") == fixed, run.explain()

    # The same patch tagged on main by hand: the release job refuses it
    # before any tag moves.
    run = world.push_tag("churn-model/v1.0.2", world.head("main"))
    assert run.job("release") == "failure", run.explain()
    assert "already contains the release churn-model/v1.1.0-rc.1" in run.result.log(), run.explain()
    assert "1.0.2" not in world.tags("churn-model")
    assert world.tag_digest("churn-model", "1.0") == fixed, run.explain()


