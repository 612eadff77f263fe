"""Measurements of a noise-to-image generator while it trains, for the families whose config extends
:class:`MeasuredConfig` (gan, pggan): FID/KID every ``eval_every`` steps and D's overfitting gap every
``gap_every`` steps, run as callbacks that add their values to the logged rows."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import RunConfig, flag, need, option


@dataclass
class MeasuredConfig(RunConfig):
    """Measurements of a noise-to-image generator while it trains (the gan family's; PGGAN's config extends
    this too). They run as callbacks (:func:`measuring_callbacks`) and add their values to the logged rows."""

    eval_every: int = option(0, "log fid/kid every N steps (0: never; a multiple of --log-every)")
    eval_n: int = option(2000, "generated samples per --eval-every evaluation")
    eval_features: str = option("fmnist-cnn", "feature extractor for --eval-every")
    gap_every: int = option(
        0, "log D's overfitting gap (training vs held-out reals) every N steps (0: never)"
    )

    def validate(self) -> "MeasuredConfig":
        super().validate()
        for name in ("eval_every", "gap_every"):
            every = getattr(self, name)
            need(
                every >= 0 and every % self.log_every == 0,
                f"{flag(name)} must be 0 or a multiple of --log-every ({self.log_every}), got {every}",
            )
        need(self.eval_n >= 2, f"--eval-n must be >= 2, got {self.eval_n}")
        return self


MEASURED_RESUMABLE = ("eval_every", "eval_n", "gap_every")  # may change on resume
OVERFITTING_CHART = ("Overfitting: D on training vs held-out reals", ("d_train", "d_heldout", "d_gap"))
FID_CHART = ("FID", ("fid",))
KID_CHART = ("KID", ("kid",))


def measuring_callbacks(config: MeasuredConfig) -> list:
    """The measurements the config turns on: the overfitting gap (``gap_every``), FID/KID (``eval_every``)."""
    from ..metrics.evaluate import MetricsCallback  # here: the metrics' extractors are slow to import
    from ..metrics.overfitting import OverfittingCallback

    callbacks = []
    if config.gap_every:
        callbacks.append(OverfittingCallback(config.gap_every))
    if config.eval_every:
        callbacks.append(MetricsCallback(config.eval_every, config.eval_n, config.eval_features))
    return callbacks
