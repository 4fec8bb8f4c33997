"""What ``stratus gc`` selects and finds: the selection asked for, each deleted item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["experiment", "run", "logged model"]


@dataclass(frozen=True)
class Deleted:
    """Something in the ``deleted`` lifecycle stage (or inside a deleted experiment)."""

    kind: Kind
    id: str
    experiment_id: int
    artifact_uri: str


@dataclass(frozen=True)
class Selection:
    """What to collect. ``None`` lists mean every deleted item of that kind."""

    deleted_before: int | None = None
    run_ids: Sequence[str] | None = None
    experiment_ids: Sequence[int] | None = None
    logged_model_ids: Sequence[str] | None = None

    @property
    def explicit(self) -> bool:
        return any(
            ids is not None for ids in (self.run_ids, self.experiment_ids, self.logged_model_ids)
        )
