"""The GAN Lab-style 2-D view: snapshots while training, and one figure with a frame per snapshot."""

import pytest
import torch

from toolkit.ring_view import show_training, training_figure, training_snapshots


def test_snapshots_are_evenly_spaced_and_hold_what_the_figure_draws():
    torch.set_num_threads(1)
    pg, shots = training_snapshots(steps=30, frames=3, grid=12, arrows=16, seed=0)
    assert [s.step for s in shots] == [0, 10, 20, 30] and pg.step == 30
    last = shots[-1]
    assert last.fake.shape == (512, 2) and last.surface.shape == (12, 12) and last.axis.shape == (12,)
    assert last.arrow_from.shape == last.push.shape == (16, 2)
    assert 0 <= float(last.surface.min()) and float(last.surface.max()) <= 1  # sigmoid(D): a probability
    assert shots[0].loss_d is None and isinstance(last.loss_g, float)
    assert last.quality.num_modes == 8
    # the arrows point where D's output rises: moving a point along its arrow raises D(x)
    step = 1e-3 * last.push / last.push.norm(dim=1, keepdim=True).clamp_min(1e-12)
    with torch.no_grad():
        gain = pg.D(last.arrow_from + step).flatten() - pg.D(last.arrow_from).flatten()
    assert (gain > 0).float().mean() > 0.9


def test_the_figure_has_one_frame_and_one_slider_step_per_snapshot():
    pg, shots = training_snapshots(steps=8, frames=2, grid=8, arrows=8, loss="wgan-gp", seed=1)
    fig = training_figure(pg, shots)
    assert len(fig.frames) == len(shots) == 3
    assert [st.label for st in fig.layout.sliders[0].steps] == ["0", "4", "8"]
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter", "scatter"]
    assert fig.data[0].zmid == 0.0  # a critic's score, not a probability


def test_show_training_prints_the_modes_per_frame(capsys):
    fig = show_training(steps=4, frames=2, lr=2e-3, loss="minimax")
    out = capsys.readouterr().out
    assert out.startswith("minimax, lr 0.002, 4 steps: step 0 ") and "step 4 " in out
    assert len(fig.frames) == 3


def test_bad_settings_say_what_is_wrong():
    with pytest.raises(ValueError, match="steps and frames must be >= 1"):
        training_snapshots(steps=0)
