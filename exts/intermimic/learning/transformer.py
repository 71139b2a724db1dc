"""The Transformer student: one token per future offset.

The student's observation is offset-major (one full block per future offset, see
:mod:`intermimic.tasks.mdp.observation_layout`). After the usual running normalisation (clipped
to +-5), the vector is cut into its K blocks; each block becomes a token through one shared
linear embedding, sinusoidal position codes are added, and a small encoder (3 layers, 4 heads,
width 256, feed-forward 512, GELU, no dropout) mixes the tokens. One token's output (by default
the one of the second block, i.e. offset 1 for offsets {0, 1, 4, 16}, as in the authors'
release) goes through an output head to the action mean.

:class:`TransformerModel` is rsl_rl's ``MLPModel`` with this network in place of the MLP, so
rollouts, PPO, checkpoints and TorchScript/ONNX export treat it like any rsl_rl model. The
attention is written out with plain tensor operations so both exports trace it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .models import ClippedMLPModel


def sinusoidal_positions(num_tokens: int, width: int) -> torch.Tensor:
    """``[num_tokens, width]`` sine/cosine position codes (even columns sine, odd cosine)."""
    pos = torch.arange(num_tokens, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    codes = torch.zeros(num_tokens, width)
    codes[:, 0::2] = torch.sin(pos * freq)
    codes[:, 1::2] = torch.cos(pos * freq[: width // 2])
    return codes


class EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer: self-attention and feed-forward, each with a residual."""

    def __init__(self, width: int, heads: int, ff_width: int):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm1 = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, ff_width), nn.GELU(), nn.Linear(ff_width, width))
        self.norm2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, N, W]
        b, n, w = x.shape
        head_w = w // self.heads
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, head_w).permute(2, 0, 3, 1, 4)  # [3, B, H, N, w]
        attn = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) / math.sqrt(head_w), dim=-1)
        mixed = (attn @ qkv[2]).transpose(1, 2).reshape(b, n, w)
        x = self.norm1(x + self.proj(mixed))
        return self.norm2(x + self.ff(x))


class TokenTransformer(nn.Module):
    """Flat offset-major vector ``[B, K * D]`` -> action mean ``[B, A]``."""

    def __init__(self, num_tokens: int, token_dim: int, output_dim: int, width: int = 256, heads: int = 4,
                 ff_width: int = 512, layers: int = 3, readout_token: int = 1, head_dims=()):  # fmt: skip
        super().__init__()
        if not 0 <= readout_token < num_tokens:
            raise ValueError(f"readout_token {readout_token} is not one of the {num_tokens} tokens")
        self.num_tokens = num_tokens
        self.token_dim = token_dim
        self.readout_token = readout_token
        self.embed = nn.Linear(token_dim, width)
        self.register_buffer("positions", sinusoidal_positions(num_tokens, width), persistent=False)
        self.layers = nn.Sequential(*[EncoderLayer(width, heads, ff_width) for _ in range(layers)])
        head: list[nn.Module] = []
        last = width
        for dim in head_dims:
            head += [nn.Linear(last, dim), nn.ReLU()]
            last = dim
        head.append(nn.Linear(last, output_dim))
        self.head = nn.Sequential(*head)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Embedded tokens with positions, ``[B, K, width]``."""
        blocks = x.reshape(x.shape[0], self.num_tokens, self.token_dim)
        return self.embed(blocks) + self.positions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoded = self.layers(self.tokens(x))
        return self.head(encoded[:, self.readout_token])


class TransformerModel(ClippedMLPModel):
    """rsl_rl model (normalisation clipped to +-obs_clip, Gaussian actions) whose network is a
    :class:`TokenTransformer` over the observation's ``num_tokens`` blocks."""

    def __init__(self, obs, obs_groups, obs_set, output_dim, num_tokens: int = 4, width: int = 256, heads: int = 4,
                 ff_width: int = 512, layers: int = 3, readout_token: int = 1, head_dims=(), **kwargs):  # fmt: skip
        kwargs["hidden_dims"] = (1,)  # placeholder network, replaced below
        super().__init__(obs, obs_groups, obs_set, output_dim, **kwargs)
        if self.obs_dim % num_tokens:
            raise ValueError(
                f"the '{obs_set}' observation has {self.obs_dim} values, not a multiple of {num_tokens} tokens"
            )
        out = self.distribution.input_dim if self.distribution is not None else output_dim
        self.mlp = TokenTransformer(num_tokens, self.obs_dim // num_tokens, out, width, heads, ff_width, layers,
                                    readout_token, head_dims)  # fmt: skip
