"""Run and experiment search through the real client: the filter grammar and pagination."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


@pytest.fixture
def sweep(client, unique: str) -> tuple[str, dict[str, str]]:
    """Five runs of a small sweep; returns the experiment id and run ids by name."""
    experiment_id = client.create_experiment(f"sweep-{unique}")
    runs = {}
    for index, (optimizer, loss) in enumerate(
        [("adam", 0.3), ("sgd", 0.6), ("adam", 0.2), ("sgd-momentum", 0.9), ("Adam", 0.4)]
    ):
        run = client.create_run(
            experiment_id,
            run_name=f"sweep-{optimizer}-{index}",
            start_time=1_700_000_000_000 + index,
        )
        run_id = run.info.run_id
        client.log_param(run_id, "optimizer", optimizer)
        client.log_param(run_id, "child idx", str(index))
        client.log_metric(run_id, "final_loss", loss)
        if index % 2 == 0:
            client.log_metric(run_id, "val acc", 1 - loss)
        client.set_tag(run_id, "sweep", "v1")
        client.set_tag(run_id, "note", "salt and pepper" if index == 1 else "plain")
        client.set_terminated(run_id, "FAILED" if index == 3 else "FINISHED")
        runs[f"r{index}"] = run_id
    return experiment_id, runs


def names(runs) -> list[str]:
    return [run.info.run_name for run in runs]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (
            "params.optimizer = 'adam' and metrics.final_loss < 0.5 and tags.sweep = 'v1'",
            ["sweep-adam-2", "sweep-adam-0"],
        ),
        ("attributes.run_name LIKE 'sweep-sgd%'", ["sweep-sgd-momentum-3", "sweep-sgd-1"]),
        (
            "attributes.run_name ILIKE 'SWEEP-ADAM%'",
            ["sweep-Adam-4", "sweep-adam-2", "sweep-adam-0"],
        ),
        ("params.optimizer LIKE 'adam'", ["sweep-adam-2", "sweep-adam-0"]),
        ("attributes.status = 'FAILED'", ["sweep-sgd-momentum-3"]),
        ("params.optimizer IN ('sgd', 'Adam')", ["sweep-Adam-4", "sweep-sgd-1"]),
        ("params.optimizer NOT IN ('sgd', 'Adam', 'adam')", ["sweep-sgd-momentum-3"]),
        ("params.`child idx` = '3'", ["sweep-sgd-momentum-3"]),
        ("params.\"child idx\" >= '3'", None),
        ("metrics.`val acc` > 0.7", ["sweep-adam-2"]),
        (
            "metrics.final_loss != 0.3",
            ["sweep-Adam-4", "sweep-sgd-momentum-3", "sweep-adam-2", "sweep-sgd-1"],
        ),
        ("tags.note = 'salt and pepper'", ["sweep-sgd-1"]),
        ("tags.note != 'plain'", ["sweep-sgd-1"]),
        (
            "",
            ["sweep-Adam-4", "sweep-sgd-momentum-3", "sweep-adam-2", "sweep-sgd-1", "sweep-adam-0"],
        ),
    ],
)
def test_filters(client, sweep, filter_string: str, expected: list[str] | None) -> None:
    experiment_id, _ = sweep
    if expected is None:
        with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE"):
            client.search_runs([experiment_id], filter_string)
        return
    assert names(client.search_runs([experiment_id], filter_string)) == expected


def test_run_id_filter(client, sweep) -> None:
    experiment_id, runs = sweep
    found = client.search_runs(
        [experiment_id], f"attributes.run_id IN ('{runs['r1']}', '{runs['r3']}')"
    )
    assert {r.info.run_id for r in found} == {runs["r1"], runs["r3"]}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (
            ["metrics.final_loss DESC"],
            ["sweep-sgd-momentum-3", "sweep-sgd-1", "sweep-Adam-4", "sweep-adam-0", "sweep-adam-2"],
        ),
        (
            ["metrics.`val acc` ASC"],
            ["sweep-Adam-4", "sweep-adam-0", "sweep-adam-2", "sweep-sgd-momentum-3", "sweep-sgd-1"],
        ),
        (
            ["params.`child idx` ASC"],
            ["sweep-adam-0", "sweep-sgd-1", "sweep-adam-2", "sweep-sgd-momentum-3", "sweep-Adam-4"],
        ),
        (
            ["attributes.start_time ASC"],
            ["sweep-adam-0", "sweep-sgd-1", "sweep-adam-2", "sweep-sgd-momentum-3", "sweep-Adam-4"],
        ),
    ],
)
def test_order_by(client, sweep, order_by: list[str], expected: list[str]) -> None:
    experiment_id, _ = sweep
    assert names(client.search_runs([experiment_id], order_by=order_by)) == expected


def test_pagination_across_pages(client, sweep) -> None:
    experiment_id, _ = sweep
    seen: list[str] = []
    tokens = []
    token = None
    while True:
        page = client.search_runs([experiment_id], max_results=2, page_token=token)
        seen.extend(names(page))
        tokens.append(page.token)
        token = page.token
        if not token:
            break
    assert len(tokens) == 3 and tokens[-1] is None
    assert seen == [
        "sweep-Adam-4",
        "sweep-sgd-momentum-3",
        "sweep-adam-2",
        "sweep-sgd-1",
        "sweep-adam-0",
    ]


def test_dataframe_search_across_experiments(tracking_uri: str, sweep, unique: str) -> None:
    experiment_id, _ = sweep
    frame = mlflow.search_runs(
        experiment_names=[f"sweep-{unique}"],
        filter_string="metrics.final_loss < 0.5",
        order_by=["metrics.final_loss ASC"],
    )
    assert list(frame["metrics.final_loss"]) == [0.2, 0.3, 0.4]
    assert set(frame["params.optimizer"]) == {"adam", "Adam"}
    assert frame["experiment_id"].unique().tolist() == [experiment_id]


def test_view_types(client, sweep) -> None:
    experiment_id, runs = sweep
    client.delete_run(runs["r0"])
    assert len(client.search_runs([experiment_id])) == 4
    assert names(client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)) == [
        "sweep-adam-0"
    ]
    assert len(client.search_runs([experiment_id], run_view_type=ViewType.ALL)) == 5


def test_experiment_search(client, unique: str) -> None:
    ids = [client.create_experiment(f"es-{unique}-{i}", tags={"k": str(i)}) for i in range(3)]
    found = client.search_experiments(
        filter_string=f"name LIKE 'es-{unique}-%'", order_by=["name DESC"]
    )
    assert [e.experiment_id for e in found] == ids[::-1]
    tagged = client.search_experiments(filter_string=f"name LIKE 'es-{unique}%' AND tags.k = '1'")
    assert [e.experiment_id for e in tagged] == [ids[1]]
    page = client.search_experiments(filter_string=f"name LIKE 'es-{unique}%'", max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_experiments(
        filter_string=f"name LIKE 'es-{unique}%'", max_results=2, page_token=page.token
    )
    assert len(rest) == 1 and not rest.token
