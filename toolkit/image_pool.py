"""CycleGAN's pool of past fakes (Zhu et al. 2017 section 4, after Shrivastava et al. 2017).

D is updated on a mix of the newest generated images and ones from earlier steps, so it cannot
chase only G's latest mistakes and the two do not oscillate. As the reference (junyanz
``util/image_pool.py``): a pool of ``size`` images (50); while it fills, each new fake is stored and
returned as is; once full, each new fake is, with probability 1/2, swapped for a random stored one
(which is returned, the new one taking its place), else returned as is. ``size`` 0 passes fakes through.
Fakes are detached: the pool only feeds D's update. Random draws use torch's generator, so a resumed run
(whose RNG state is restored) draws the same.
"""

from __future__ import annotations

import torch


class ImagePool:
    def __init__(self, size: int = 50):
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """A batch for D's update, the same shape as ``fakes``: the new fakes and some older ones."""
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        out = []
        for image in fakes:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(0, self.size, ()))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"images": torch.stack(self.images).cpu() if self.images else torch.empty(0)}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.images = [im.to(device) for im in state["images"]] if len(state["images"]) else []
