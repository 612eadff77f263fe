"""Training: the loop every family runs in (:class:`Trainer`), its callbacks and the EMA.

``TrainConfig`` is the ``gan`` family's config (lessons 01-07); ``TrainConfig.for_model(name, ...)``
returns any model's config with its preset, whatever its family.
"""

from ..config import RunConfig, config_for
from ..families.gan import PRESETS as MODEL_PRESETS
from ..families.gan import GANConfig as TrainConfig
from .callbacks import Callback
from .ema import EMA
from .interval import TrainingDiverged
from .loop import Trainer

__all__ = [
    "EMA",
    "MODEL_PRESETS",
    "Callback",
    "RunConfig",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "config_for",
]
