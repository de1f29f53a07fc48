def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
