// The built-in project templates. Placeholders: {{ name }} (project and image
// name), {{ module }} (name as a Python module), {{ path }} and
// {{ python_version }}.
#include "builtin_templates.hpp"

namespace mlrepo::scaffold {
namespace {

const char* kDockerignore = R"~(# Keep data, models and local clutter out of the build context.
data/
models/
*.ckpt
*.pt
*.pth
*.onnx
*.parquet
*.h5
.ipynb_checkpoints/
__pycache__/
*.pyc
.venv/
.pytest_cache/
)~";

const char* kGitignore = R"~(data/
models/
*.ckpt
__pycache__/
.pytest_cache/
.ipynb_checkpoints/
)~";

Template python_template() {
  return {"python",
          "Python project: slim Python base, requirements.txt, src/ and a passing pytest",
          true,
          {{"Dockerfile", R"~(# {{ name }}: built by `mlrepo build`, tested by `mlrepo test`.
ARG PYTHON_VERSION={{ python_version }}
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app/src
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY src/ src/
COPY tests/ tests/

CMD ["python", "-m", "{{ module }}"]
)~"},
           {"requirements.txt", "# Runtime and test dependencies of {{ name }}.\npytest>=7\n"},
           {"mlrepo.yaml", R"~(# Settings for this project: docs/config.md in mlrepo's documentation.
build_args:
  PYTHON_VERSION: "{{ python_version }}"
test: python -m pytest -q tests
)~"},
           {"src/{{ module }}/__init__.py", "\"\"\"{{ name }}.\"\"\"\n"},
           {"src/{{ module }}/__main__.py", R"~("""Entry point: `python -m {{ module }}` (the image's default command)."""
from {{ module }}.model import predict


def main() -> None:
    print(f"{{ name }}: prediction for [1, 2, 3] = {predict([1.0, 2.0, 3.0])}")


if __name__ == "__main__":
    main()
)~"},
           {"src/{{ module }}/model.py", R"~("""The model. Replace this baseline with the real thing."""


def predict(features: list[float]) -> float:
    """A baseline: the mean of the features (0.0 for none)."""
    return sum(features) / len(features) if features else 0.0
)~"},
           {"tests/test_model.py", R"~(import sys
from pathlib import Path

# Lets the tests run on the host too, not only in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from {{ module }}.model import predict  # noqa: E402


def test_baseline_is_the_mean():
    assert predict([1.0, 2.0, 3.0]) == 2.0


def test_no_features():
    assert predict([]) == 0.0
)~"},
           {".dockerignore", kDockerignore},
           {".gitignore", kGitignore},
           {"README.md", R"~(# {{ name }}

Created with `mlrepo new`. Lives in `{{ path }}`.

```sh
mlrepo build {{ name }}         # build the image (python {{ python_version }})
mlrepo test {{ name }}          # run the tests inside it, as CI does
mlrepo run {{ name }}           # run the default command
mlrepo run {{ name }} -- python -m pytest -q tests -k baseline
```

Add dependencies to `requirements.txt`, code to `src/{{ module }}/`, tests to `tests/`.
Keep data out of git and out of the image: `data/` and model files are ignored by
`.gitignore` and `.dockerignore`; mount data with `run.volumes` in `mlrepo.yaml`.
)~"}}};
}

Template notebook_template() {
  return {"notebook",
          "Jupyter image for exploration: JupyterLab on port 8888, data mounted from data/",
          true,
          {{"Dockerfile", R"~(# {{ name }}: a JupyterLab image. `mlrepo run {{ name }}` serves it on port 8888.
ARG PYTHON_VERSION={{ python_version }}
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app/src
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY src/ src/
COPY tests/ tests/
COPY notebooks/ notebooks/

EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/app/notebooks"]
)~"},
           {"requirements.txt", "jupyterlab>=4\npandas>=2\nmatplotlib>=3\npytest>=7\n"},
           {"mlrepo.yaml", R"~(# Settings for this project: docs/config.md in mlrepo's documentation.
build_args:
  PYTHON_VERSION: "{{ python_version }}"
test: python -m pytest -q tests
run:
  ports: ["8888:8888"]
  volumes: ["{{ path }}/data:/app/data"]
)~"},
           {"src/{{ module }}/__init__.py", "\"\"\"Helpers shared by the notebooks of {{ name }}.\"\"\"\n"},
           {"src/{{ module }}/summary.py", R"~(def describe(values: list[float]) -> dict[str, float]:
    """Count, mean, min and max of a list of numbers."""
    if not values:
        return {"count": 0, "mean": 0.0, "min": 0.0, "max": 0.0}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "min": min(values),
        "max": max(values),
    }
)~"},
           {"tests/test_summary.py", R"~(import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from {{ module }}.summary import describe  # noqa: E402


def test_describe():
    assert describe([1.0, 3.0]) == {"count": 2, "mean": 2.0, "min": 1.0, "max": 3.0}


def test_describe_empty():
    assert describe([])["count"] == 0
)~"},
           {"notebooks/explore.ipynb", R"~({
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# {{ name }}: exploration\n", "\n", "Data is mounted at `/app/data`."]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["from {{ module }}.summary import describe\n", "describe([1.0, 2.0, 3.0])"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
)~"},
           {"data/.gitkeep", ""},
           {".dockerignore", kDockerignore},
           {".gitignore", "data/*\n!data/.gitkeep\nmodels/\n*.ckpt\n__pycache__/\n.pytest_cache/\n.ipynb_checkpoints/\n"},
           {"README.md", R"~(# {{ name }}

A JupyterLab image, created with `mlrepo new --template notebook`. Lives in `{{ path }}`.

```sh
mlrepo run {{ name }}      # JupyterLab on http://localhost:8888, data/ mounted at /app/data
mlrepo test {{ name }}     # the helpers' tests, inside the image
```

Put data in `data/` (ignored by git and kept out of the image), shared helpers in
`src/{{ module }}/`, notebooks in `notebooks/`.
)~"}}};
}

} // namespace

std::vector<Template> builtin_templates() { return {python_template(), notebook_template()}; }

} // namespace mlrepo::scaffold
