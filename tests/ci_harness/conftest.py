"""Fixtures for the harness's stories. Each module gets a World of its own;
`main_built` is the precondition of every scenario that starts from a built
main: it runs the first push once per module and, when that failed, turns
each dependent scenario into a setup error naming it instead of a cascade of
wrong-looking assertions. Within a module, scenarios marked `story` continue
one history (a pull request, its merge queue run, its merge): after a failed
step the later steps of that story are reported as not run (xfail), not as
failures of their own.
"""

import pytest

from world import World


def pytest_configure(config):
    config.addinivalue_line("markers", "story: a step of the module's one history; later steps need it to pass")


@pytest.fixture(scope="module")
def world():
    w = World()
    yield w
    w.close()


@pytest.fixture(scope="module")
def ecs_world():
    w = World(target="ecs")
    yield w
    w.close()


@pytest.fixture(scope="module")
def per_project():
    w = World(mode="per-project")
    yield w
    w.close()


def first_push(w):
    if not hasattr(w, "first_push_run"):
        w.first_push_run = w.push_main()
    return w.first_push_run


@pytest.fixture(scope="module")
def first_run(world):
    """The first push to main (run once per module), not yet judged."""
    return first_push(world)


@pytest.fixture
def main_built(world, first_run):
    """main was pushed once and CI built, tested and promoted it."""
    if first_run.job("gate") != "success":
        pytest.fail("precondition: the first push to main did not pass, so this scenario cannot start\n"
                    + first_run.explain(), pytrace=False)
    world.git("checkout", "-q", "main")
    return world


@pytest.fixture(scope="module")
def per_project_first_run(per_project):
    return first_push(per_project)


@pytest.fixture
def per_project_built(per_project, per_project_first_run):
    run = per_project_first_run
    if not all(r.result("build") == "success" for r in run.per_project.values()):
        pytest.fail("precondition: the first push to main did not pass\n" + run.explain(), pytrace=False)
    per_project.git("checkout", "-q", "main")
    return per_project


def pytest_runtest_makereport(item, call):
    if call.excinfo is not None and item.get_closest_marker("story") and call.when in ("setup", "call"):
        item.module.__dict__.setdefault("_failed_steps", []).append(item.name)


def pytest_runtest_setup(item):
    failed = item.module.__dict__.get("_failed_steps")
    if failed and item.get_closest_marker("story"):
        pytest.xfail("not run: an earlier step of this story failed (" + ", ".join(failed) + ")")
