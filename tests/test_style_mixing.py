"""toolkit/style_mixing.py, what the dashboard's Style mixing tab draws: every cell's per-layer w against a
hand-built mixing (crossover 0 = all B, crossover num_ws = all A, the layers between), what synthesis is
given, truncation towards w_avg, the paper's bands at this model's resolutions, the diversity measure by
hand, and one-line errors for bad input."""

import pytest
import torch

from toolkit.errors import ToolkitError
from toolkit.models.dcgan import DCGANGenerator
from toolkit.models.stylegan import StyleGANGenerator, mix_styles
from toolkit.style_mixing import (
    layer_bands,
    layer_resolutions,
    mean_pairwise_distance,
    mixed_ws,
    seeded_latents,
    style_mixing_grid,
)

torch.set_num_threads(1)


def generator(resolution=16, tracked=True) -> StyleGANGenerator:
    torch.manual_seed(0)
    G = StyleGANGenerator(z_dim=8, w_dim=8, channels=1, resolution=resolution, width=4, mapping_layers=2)
    if tracked:  # w_avg as training leaves it: the running mean of w (here of one batch, fully)
        G.mapping.w_avg_beta = 0.0
        G.mapping(torch.randn(64, 8))
    return G.eval()


def test_every_cell_takes_b_in_the_chosen_layers_and_a_elsewhere():
    L, D = 6, 3
    ws_a = torch.arange(2 * L * D, dtype=torch.float).view(2, L, D)  # every entry different
    ws_b = -1 - torch.arange(3 * L * D, dtype=torch.float).view(3, L, D)
    cells = mixed_ws(ws_a, ws_b, (2, 5))
    assert cells.shape == (2, 3, L, D)
    for i in range(2):
        for j in range(3):
            for layer in range(L):
                expected = ws_b[j, layer] if 2 <= layer < 5 else ws_a[i, layer]
                assert torch.equal(cells[i, j, layer], expected), (i, j, layer)
    for k in range(L + 1):  # a crossover k is the range (k, L): the training's mix_styles, cell by cell
        crossed = mixed_ws(ws_a, ws_b, (k, L))
        for i in range(2):
            for j in range(3):
                assert torch.equal(crossed[i, j], mix_styles(ws_a[i : i + 1], ws_b[j : j + 1], k)[0])
    assert torch.equal(mixed_ws(ws_a, ws_b, (0, L)), ws_b[None].expand(2, 3, L, D))  # all B
    assert torch.equal(mixed_ws(ws_a, ws_b, (L, L)), ws_a[:, None].expand(2, 3, L, D))  # all A


def test_crossover_0_is_every_column_source_and_num_ws_every_row_source():
    G = generator()
    L = G.num_ws
    all_b = style_mixing_grid(G, seed=3, b_layers=(0, L))
    all_a = style_mixing_grid(G, seed=3, b_layers=(L, L))
    for i in range(3):
        for j in range(5):
            assert torch.allclose(all_b.cells[i, j], all_b.sources_b[j], atol=1e-6)
            assert torch.allclose(all_a.cells[i, j], all_a.sources_a[i], atol=1e-6)
    assert torch.equal(all_b.sources_a, all_a.sources_a) and torch.equal(all_b.sources_b, all_a.sources_b)
    between = style_mixing_grid(G, seed=3, b_layers=(2, L))
    assert not torch.allclose(between.cells[0, 0], all_a.cells[0, 0], atol=1e-4)
    assert not torch.allclose(between.cells[0, 0], all_b.cells[0, 0], atol=1e-4)


def test_synthesis_gets_the_seeds_ws_truncated_towards_w_avg_and_mixed_as_by_hand():
    G = generator()
    given = []
    synthesis = G.synthesis.forward
    G.synthesis.forward = lambda ws, noise_mode="random", noises=None: (
        given.append((ws.clone(), noise_mode)) or synthesis(ws, noise_mode, noises)
    )
    psi, (start, stop) = 0.6, (1, 4)
    grid = style_mixing_grid(G, seed=7, b_layers=(start, stop), psi=psi, rows=2, cols=3, samples=4)
    ((ws, noise_mode),) = given
    assert noise_mode == "const"  # the stored noise maps: a seed shows the same images every time
    z = torch.randn(2 + 3 + 4, 8, generator=torch.Generator().manual_seed(7))  # A, then B, then the samples
    with torch.no_grad():
        w = G.mapping(z)
    w_avg = G.mapping.w_avg
    truncated = w_avg + psi * (w - w_avg)  # the trick, by hand
    L = G.num_ws
    expected = [truncated[i].expand(L, 8) for i in range(5)]  # the sources: one w in every layer
    for i in range(2):
        for j in range(3):
            cell = truncated[i].expand(L, 8).clone()
            cell[start:stop] = truncated[2 + j]
            expected.append(cell)
    expected += [truncated[5 + s].expand(L, 8) for s in range(4)]
    assert torch.allclose(ws, torch.stack(expected), atol=1e-6)
    assert torch.allclose(grid.ws, torch.stack(expected[5:11]).view(2, 3, L, 8), atol=1e-6)


def test_psi_0_makes_every_sample_the_average_image_and_diversity_falls_with_psi():
    G = generator()
    samples = {psi: style_mixing_grid(G, 0, (0, 3), psi).samples for psi in (0, 0.5, 1)}
    spread = {psi: mean_pairwise_distance(images) for psi, images in samples.items()}
    assert spread[0] < 1e-6
    assert spread[0] < spread[0.5] < spread[1]
    assert torch.equal(style_mixing_grid(G, 0, (0, 3), 1.0).samples, style_mixing_grid(G, 0, (0, 3)).samples)


def test_mean_pairwise_distance_by_hand():
    black, white, grey = torch.full((1, 1, 2, 2), -1.0), torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    # pairs: black-white 2, black-grey 1, white-grey 1 (root-mean-square pixel differences)
    assert mean_pairwise_distance(torch.cat([black, white, grey])) == pytest.approx(4 / 3)
    half = torch.tensor([[[[1.0, -1.0]]], [[[1.0, 1.0]]]])  # one pixel differs by 2: sqrt(4 / 2)
    assert mean_pairwise_distance(half) == pytest.approx(2**0.5)
    with pytest.raises(ToolkitError, match="two or more images"):
        mean_pairwise_distance(black)


@pytest.mark.parametrize(
    "resolution, resolutions, bands",
    [
        (8, [4, 8, 8, 8], {"coarse": (0, 1), "fine": (1, 4)}),
        (16, [4, 8, 8, 16, 16, 16], {"coarse": (0, 3), "fine": (3, 6)}),
        (32, [4, 8, 8, 16, 16, 32, 32, 32], {"coarse": (0, 3), "middle": (3, 5), "fine": (5, 8)}),
        (64, [4, 8, 8, 16, 16, 32, 32, 64, 64, 64], {"coarse": (0, 3), "middle": (3, 7), "fine": (7, 10)}),
    ],
)
def test_the_papers_bands_at_this_models_resolutions(resolution, resolutions, bands):
    G = generator(resolution, tracked=False)
    assert layer_resolutions(G) == resolutions and len(resolutions) == G.num_ws
    assert layer_bands(G) == bands


def test_a_seed_gives_the_same_latents_every_time():
    a1, b1 = seeded_latents(5, (2, 3), 8)
    a2, b2 = seeded_latents(5, (2, 3), 8)
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and not torch.equal(a1, b1[:2])
    assert torch.equal(torch.cat([a1, b1]), torch.randn(5, 8, generator=torch.Generator().manual_seed(5)))
    with pytest.raises(ToolkitError, match="whole number >= 0"):
        seeded_latents(-1, (2,), 8)


@pytest.mark.parametrize("psi", [-0.1, 1.5, float("nan"), True, "0.5"])
def test_a_psi_outside_0_1_is_a_one_line_error(psi):
    with pytest.raises(ToolkitError, match=r"psi must be in \[0, 1\]") as err:
        style_mixing_grid(generator(), 0, (0, 3), psi)
    assert "\n" not in str(err.value)


def test_truncation_without_a_tracked_w_avg_is_a_one_line_error_but_psi_1_still_mixes():
    G = generator(tracked=False)  # w_avg all zeros: never updated
    with pytest.raises(ToolkitError, match=r"mapping.w_avg is all zeros .*use psi = 1"):
        style_mixing_grid(G, 0, (0, 3), 0.5)
    G.mapping.w_avg.fill_(float("nan"))
    with pytest.raises(ToolkitError, match="mapping.w_avg is not finite"):
        style_mixing_grid(G, 0, (0, 3), 0.5)
    assert style_mixing_grid(G, 0, (0, 3), 1.0).cells.shape == (3, 5, 1, 16, 16)


def test_other_bad_input_is_a_one_line_error():
    G = generator()
    with pytest.raises(ToolkitError, match=r"0 <= start <= stop <= 6; got \(4, 2\)"):
        style_mixing_grid(G, 0, (4, 2))
    with pytest.raises(ToolkitError, match=r"got \(0, 7\)"):
        style_mixing_grid(G, 0, (0, 7))
    with pytest.raises(ToolkitError, match="needs a StyleGAN generator .* this is a DCGANGenerator"):
        style_mixing_grid(DCGANGenerator(z_dim=8, channels=1, resolution=32, width=4), 0, (0, 1))
    with pytest.raises(ToolkitError, match="rows, cols >= 1"):
        style_mixing_grid(G, 0, (0, 3), rows=0)


def test_the_figure_puts_b_on_top_a_on_the_left_and_each_cell_at_its_crossing():
    from toolkit.viz import to_uint8

    grid = style_mixing_grid(generator(), seed=1, b_layers=(0, 3), rows=2, cols=3)
    pixels = grid.figure(padding=2, gutter=6)
    h = w = 16
    step, body = (
        h + 2,
        2 + (h + 2) + 6,
    )  # images 18 px apart; the cells start after the sources and the gutter
    assert pixels.shape == (body + 2 * step, body + 3 * step) and pixels.dtype.name == "uint8"
    assert (pixels[: body - 2, : body - 2] == 255).all()  # the corner is empty (white)

    def at(y, x):
        return pixels[y : y + h, x : x + w]

    for j in range(3):
        assert (at(2, body + j * step) == to_uint8(grid.sources_b[j : j + 1])[0, 0]).all()
    for i in range(2):
        assert (at(body + i * step, 2) == to_uint8(grid.sources_a[i : i + 1])[0, 0]).all()
        for j in range(3):
            assert (at(body + i * step, body + j * step) == to_uint8(grid.cells[i, j][None])[0, 0]).all()
