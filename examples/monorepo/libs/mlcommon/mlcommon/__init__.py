"""Feature helpers shared by the team's models."""
from .features import ratio, clip

__all__ = ["ratio", "clip"]
