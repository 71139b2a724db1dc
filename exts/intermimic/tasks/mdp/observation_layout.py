"""Offset-major observation vectors and their layout.

The HOI observation terms return ``[E, K, d]`` (K future offsets). Isaac Lab's observation
manager concatenates a group's terms along the last dimension, giving ``[E, K, D]`` with one
D-wide block per offset; :class:`OffsetMajorObservationManager` flattens that to ``[E, K * D]``
so the policy sees block after block (offset-major, as the authors' release lays it out), while
every term keeps its own name in the config. :class:`ObservationLayout` says where each term's
values sit in the flat vector; it is the one description of the column layout used by tests,
the Transformer student (one token per block) and exported metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from isaaclab.managers import ObservationManager


@dataclass(frozen=True)
class ObservationLayout:
    """Column layout of one offset-major observation group."""

    terms: tuple[str, ...]
    """Term names in block order."""
    term_dims: tuple[int, ...]
    """Values of each term per block."""
    num_blocks: int
    """Blocks (future offsets) in the vector."""
    offsets: tuple[int, ...] = ()
    """The future offset of each block, when known."""

    @property
    def block_dim(self) -> int:
        return sum(self.term_dims)

    @property
    def dim(self) -> int:
        return self.num_blocks * self.block_dim

    def term_start(self, term: str) -> int:
        """Column of ``term`` within a block."""
        i = self.terms.index(term)
        return sum(self.term_dims[:i])

    def term_slice(self, term: str, block: int) -> slice:
        """Columns of ``term`` in block ``block`` of the flat vector."""
        start = block * self.block_dim + self.term_start(term)
        return slice(start, start + self.term_dims[self.terms.index(term)])

    def blocks(self, obs: torch.Tensor) -> torch.Tensor:
        """``[..., K * D]`` -> ``[..., K, D]``."""
        return obs.reshape(*obs.shape[:-1], self.num_blocks, self.block_dim)

    def split(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each term's values for every block: ``{name: [..., K, d]}``."""
        parts = torch.split(self.blocks(obs), list(self.term_dims), dim=-1)
        return dict(zip(self.terms, parts))

    def to_dict(self) -> dict:
        return asdict(self)


class OffsetMajorObservationManager(ObservationManager):
    """Isaac Lab's observation manager whose groups of ``[E, K, d]`` terms come out flat,
    offset-major: ``[E, K * D]``. Groups of ordinary ``[E, d]`` terms are unchanged."""

    def __init__(self, cfg, env):
        super().__init__(cfg, env)
        self._layouts: dict[str, ObservationLayout] = {}
        for group, dims in list(self._group_obs_dim.items()):
            if not self._group_obs_concatenate[group] or not isinstance(dims, tuple) or len(dims) != 2:
                continue
            term_dims = self._group_obs_term_dim[group]
            if any(len(d) != 2 or d[0] != dims[0] for d in term_dims):
                raise ValueError(f"observation group '{group}': terms disagree on the number of offsets: {term_dims}")
            offsets = _group_offsets(env, self._group_obs_term_cfgs[group])
            self._layouts[group] = ObservationLayout(
                terms=tuple(self._group_obs_term_names[group]),
                term_dims=tuple(d[1] for d in term_dims),
                num_blocks=dims[0],
                offsets=offsets if len(offsets) == dims[0] else (),
            )
            self._group_obs_dim[group] = (dims[0] * dims[1],)

    def layout(self, group: str) -> ObservationLayout:
        """The block layout of an offset-major group."""
        if group not in self._layouts:
            raise KeyError(f"observation group '{group}' is not offset-major (offset-major: {sorted(self._layouts)})")
        return self._layouts[group]

    @property
    def layouts(self) -> dict[str, ObservationLayout]:
        return dict(self._layouts)

    def compute_group(self, group_name: str, update_history: bool = False):
        obs = super().compute_group(group_name, update_history)
        if group_name in self._layouts:
            return obs.reshape(obs.shape[0], -1)
        return obs


def _group_offsets(env, term_cfgs) -> tuple[int, ...]:
    """The future offsets a group's terms observe (their ``offsets`` parameter, else the command's)."""
    for cfg in term_cfgs:
        offsets = cfg.params.get("offsets")
        if offsets is not None:
            return tuple(int(k) for k in offsets)
    name = term_cfgs[0].params.get("command_name", "motion") if term_cfgs else "motion"
    try:
        return tuple(int(k) for k in env.command_manager.get_term(name).future_offsets)
    except (AttributeError, KeyError):
        return ()
