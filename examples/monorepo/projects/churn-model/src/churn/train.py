import argparse
import os

from mlcommon import clip, ratio


def churn_score(logins_last_month: int, logins_before: int) -> float:
    """Share of activity lost, between 0 and 1."""
    return clip(1.0 - ratio(logins_last_month, logins_before), 0.0, 1.0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train the churn model (here: score one customer).")
    parser.add_argument("--logins-last-month", type=int, default=3)
    parser.add_argument("--logins-before", type=int, default=12)
    args = parser.parse_args()
    score = churn_score(args.logins_last_month, args.logins_before)
    print(f"churn score for {args.logins_last_month} vs {args.logins_before} logins: {score:.2f}")
    # The database password comes from a secret: say that it arrived, never what it is.
    print(f"model directory: {os.environ.get('MODEL_DIR', '(unset)')}; "
          f"database password: {'set' if os.environ.get('DB_PASSWORD') else 'missing'}")
    # In a pipeline, MODEL_DIR is the step's output directory: what the next step reads.
    model_dir = os.environ.get("MODEL_DIR")
    if model_dir and os.path.isdir(model_dir):
        with open(os.path.join(model_dir, "score.txt"), "w") as f:
            f.write(f"{score:.4f}\n")
