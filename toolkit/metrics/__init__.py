"""Scores for generated samples. Every score names the features it was computed on."""

from .fid import feature_statistics, frechet_distance, frechet_distance_from_stats
from .pixels import pixel_features

__all__ = ["feature_statistics", "frechet_distance", "frechet_distance_from_stats", "pixel_features"]
