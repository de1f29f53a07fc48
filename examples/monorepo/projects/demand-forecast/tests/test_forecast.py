import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from forecast import moving_average  # noqa: E402


def test_moving_average():
    assert moving_average([10, 12, 14], window=2) == [10, 11, 13]
