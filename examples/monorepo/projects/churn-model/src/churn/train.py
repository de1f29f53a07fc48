from mlcommon import clip, ratio


def churn_score(logins_last_month: int, logins_before: int) -> float:
    """Share of activity lost, between 0 and 1."""
    return clip(1.0 - ratio(logins_last_month, logins_before), 0.0, 1.0)


if __name__ == "__main__":
    print(f"churn score for 3 vs 12 logins: {churn_score(3, 12):.2f}")
