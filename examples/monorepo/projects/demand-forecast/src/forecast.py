def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing moving average; the first window-1 points average what exists."""
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - window + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


if __name__ == "__main__":
    import os

    print(moving_average([10, 12, 14, 20], window=2))
    # In the churn-weekly pipeline, the churn model's output is mounted here.
    score = os.path.join(os.environ.get("MODEL_DIR", ""), "score.txt")
    if os.path.isfile(score):
        with open(score) as f:
            print(f"churn score from the model: {f.read().strip()}")
