"""Training: the loop every family runs in (:class:`Trainer`), its callbacks and the EMA.

``config_for(model, **settings)`` builds any model's config (from the family registry). ``TrainConfig``
is the ``gan`` family's config under the name lessons 01-07 use; ``TrainConfig.for_model(name, ...)``
is ``config_for`` for its models.
"""

from ..config import RunConfig
from ..families import config_for
from ..families.gan_config import PRESETS as MODEL_PRESETS
from ..families.gan_config import GANConfig as TrainConfig
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
