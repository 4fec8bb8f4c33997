"""``stratus gc`` pieces that need no database: durations and which folder an item owns."""

from __future__ import annotations

import pytest

from service.errors import InvalidParameterValue
from service.gc import own_folder, parse_duration
from service.store.entities.gc import Deleted


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30d", 30 * 86_400_000),
        ("8h", 8 * 3_600_000),
        ("1d2h3m4s", 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4_000),
        ("1.5h", 5_400_000),
        ("0s", 0),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "30", "d", "2h1d", "1w", "-1d", "abc"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Could not parse"):
        parse_duration(text)


RUN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("kind", "item_id", "uri", "folder"),
    [
        ("run", RUN, f"mlflow-artifacts:/3/{RUN}/artifacts", f"3/{RUN}"),
        ("logged model", "m-1", "mlflow-artifacts:/3/models/m-1/artifacts", "3/models/m-1"),
        ("run", RUN, f"mlflow-artifacts:/custom/place/{RUN}/artifacts", f"custom/place/{RUN}"),
        ("run", RUN, "mlflow-artifacts:/shared/artifacts", "shared/artifacts"),
        ("run", RUN, "mlflow-artifacts:/", None),
        ("run", RUN, f"gs://elsewhere/3/{RUN}/artifacts", None),
        ("run", RUN, f"mlflow-artifacts:/3/../{RUN}/artifacts", None),
    ],
)
def test_own_folder(kind: str, item_id: str, uri: str, folder: str | None) -> None:
    assert own_folder(Deleted(kind, item_id, 3, uri)) == folder
