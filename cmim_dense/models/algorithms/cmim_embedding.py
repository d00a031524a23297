"""CMIM's trainable embedding heads ``g_B`` and ``g_F`` for one layer."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn


def _projector(in_channels: int, embed_dim: int,
               hidden_dim: Optional[int]) -> nn.Module:
    if hidden_dim is None:
        return nn.Linear(in_channels, embed_dim)
    return nn.Sequential(
        nn.Linear(in_channels, hidden_dim), nn.ReLU(inplace=True),
        nn.Linear(hidden_dim, embed_dim))


def pool(x: Tensor) -> Tensor:
    """Global average over every axis but batch and channel (idempotent).

    ``(N, C, H, W) -> (N, C)``; ``(N, C) -> (N, C)``; ``(N, L, C)`` inputs
    of linear layers (channel last) -> mean over ``L``.
    """
    if x.dim() == 4:
        return x.mean((2, 3))
    if x.dim() == 3:
        return x.mean(1)
    return x


class CMIMEmbedding(nn.Module):
    """``z = normalize(g(pool(a)))`` for the binary and the latent side.

    The inputs may also be ``(n, C)`` feature vectors of sampled locations
    (the pixel form): a linear head on them is a 1x1 conv on the map.

    Args:
        in_channels (int): Channels of the recorded binary-side activation.
        embed_dim (int): Embedding dimension. Defaults to 128.
        hidden_dim (int, optional): Hidden width of a 2-layer MLP; None for
            one linear layer. Defaults to None.
        latent_channels (int, optional): Channels of the latent / FP side
            when they differ (an FP teacher's feature). Defaults to
            ``in_channels``.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int = 128,
                 hidden_dim: Optional[int] = None,
                 latent_channels: Optional[int] = None) -> None:
        super().__init__()
        if latent_channels is None:
            latent_channels = in_channels
        self.binary = _projector(in_channels, embed_dim, hidden_dim)
        self.latent = _projector(latent_channels, embed_dim, hidden_dim)

    def forward(self, binary: Tensor, latent: Tensor) -> tuple:
        """Embeddings ``(z_B, z_F)``, each ``(N, embed_dim)``, unit norm."""
        z_binary = F.normalize(self.binary(pool(binary).float()), dim=1)
        z_latent = F.normalize(self.latent(pool(latent).float()), dim=1)
        return z_binary, z_latent
