"""Reference solutions for lesson 03's exercises (shown with toolkit.exercises.show_solution)."""

import numpy as np
import scipy.linalg
import torch


def frechet_distance(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real  # round-off can leave tiny imaginary parts
    return float(diff @ diff + np.trace(sigma1 + sigma2 - 2 * covmean))


def mmd2(x, y):
    m, n, d = len(x), len(y), x.shape[1]

    def k(a, b):
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))  # m (m - 1) pairs of two different reals
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))  # n (n - 1) pairs of two different fakes
    return float(within_x + within_y - 2 * kxy.mean())  # the cross term: all m n pairs


def precision_recall_knn(real, fake, k=3):
    real, fake = torch.as_tensor(real), torch.as_tensor(fake)
    # radius of each ball: the distance to the k-th nearest *other* sample of the same set (the sample
    # itself is the first "neighbour", at distance 0)
    real_radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    fake_radii = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    precision = (torch.cdist(fake, real) <= real_radii[None, :]).any(dim=1).double().mean().item()
    recall = (torch.cdist(real, fake) <= fake_radii[None, :]).any(dim=1).double().mean().item()
    return precision, recall


frechet_distance_from_stats = frechet_distance  # the notebook's name for exercise 1
