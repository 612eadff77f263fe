"""GAN lessons toolkit: data, models, losses, training loop, metrics, run logging and plots."""

__version__ = "0.1.0"
