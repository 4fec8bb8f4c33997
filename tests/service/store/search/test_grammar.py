"""Filter / order_by parsing: pure, no database."""

from __future__ import annotations

import pytest

from service.errors import InvalidParameterValue
from service.store.search import (
    Comparison,
    KeyType,
    Op,
    OrderKey,
    Target,
    parse_filter,
    parse_logged_model_order_by,
    parse_order_by,
)

A, M, P, T, D = KeyType.ATTRIBUTE, KeyType.METRIC, KeyType.PARAM, KeyType.TAG, KeyType.DATASET


def one(text: str, target: Target = Target.RUNS) -> Comparison:
    [comparison] = parse_filter(text, target)
    return comparison


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_filter_is_no_filter(text: str | None) -> None:
    assert parse_filter(text, Target.RUNS) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.loss < 0.5", Comparison(M, "loss", Op.LT, 0.5)),
        ("metric.loss >= 1", Comparison(M, "loss", Op.GE, 1.0)),
        ("metrics.loss>-1e3", Comparison(M, "loss", Op.GT, -1000.0)),
        ("metrics.loss <= .5", Comparison(M, "loss", Op.LE, 0.5)),
        ("metrics.loss != +2.5E-1", Comparison(M, "loss", Op.NE, 0.25)),
        ("metrics.loss = 3", Comparison(M, "loss", Op.EQ, 3.0)),
        ("params.optimizer = 'adam'", Comparison(P, "optimizer", Op.EQ, "adam")),
        ("param.lr != '0.1'", Comparison(P, "lr", Op.NE, "0.1")),
        ('parameters.lr = "0.1"', Comparison(P, "lr", Op.EQ, "0.1")),
        ("tags.sweep LIKE 'v%'", Comparison(T, "sweep", Op.LIKE, "v%")),
        ("tag.sweep ilike 'V%'", Comparison(T, "sweep", Op.ILIKE, "V%")),
        ("tags.mlflow.parentRunId = 'abc'", Comparison(T, "mlflow.parentRunId", Op.EQ, "abc")),
        ("tags.`my key` = 'x'", Comparison(T, "my key", Op.EQ, "x")),
        ('metrics."my metric" > 1', Comparison(M, "my metric", Op.GT, 1.0)),
        (
            "tags.`mlflow.prompt.is_prompt` != 'true'",
            Comparison(T, "mlflow.prompt.is_prompt", Op.NE, "true"),
        ),
        ("tags.a.`b c`.d = 'x'", Comparison(T, "a.b c.d", Op.EQ, "x")),
        ("tags.my-key = 'x'", Comparison(T, "my-key", Op.EQ, "x")),
        ("tags.2fa = 'x'", Comparison(T, "2fa", Op.EQ, "x")),
        ("tags.a IS NULL", Comparison(T, "a", Op.IS_NULL, None)),
        ("params.a is not null", Comparison(P, "a", Op.IS_NOT_NULL, None)),
        ("attributes.status = 'FAILED'", Comparison(A, "status", Op.EQ, "FAILED")),
        ("attribute.run_name LIKE 'sweep-sgd%'", Comparison(A, "run_name", Op.LIKE, "sweep-sgd%")),
        ("attr.user_id = 'me'", Comparison(A, "user_id", Op.EQ, "me")),
        ("run.artifact_uri = 'x'", Comparison(A, "artifact_uri", Op.EQ, "x")),
        ("status != 'RUNNING'", Comparison(A, "status", Op.NE, "RUNNING")),
        ("start_time > 5", Comparison(A, "start_time", Op.GT, 5)),
        ("end_time <= 2.5", Comparison(A, "end_time", Op.LE, 2.5)),
        ("created > 7", Comparison(A, "start_time", Op.GT, 7)),
        ("Created > 7", Comparison(A, "start_time", Op.GT, 7)),
        ("`Run name` = 'x'", Comparison(A, "run_name", Op.EQ, "x")),
        ("attributes.`run name` = 'x'", Comparison(A, "run_name", Op.EQ, "x")),
        ("run_id IN ('a', 'b')", Comparison(A, "run_id", Op.IN, ("a", "b"))),
        ("run_id not in ('a',)", Comparison(A, "run_id", Op.NOT_IN, ("a",))),
        (
            "attributes.status IN ('FAILED','KILLED')",
            Comparison(A, "status", Op.IN, ("FAILED", "KILLED")),
        ),
        ("lifecycle_stage = 'active'", Comparison(A, "lifecycle_stage", Op.EQ, "active")),
        ("dataset.name = 'iris'", Comparison(D, "name", Op.EQ, "iris")),
        ("datasets.digest IN ('a', \"b\")", Comparison(D, "digest", Op.IN, ("a", "b"))),
        ("dataset.context LIKE 'tr%'", Comparison(D, "context", Op.LIKE, "tr%")),
        ("METRICS.loss < 1", Comparison(M, "loss", Op.LT, 1.0)),
    ],
)
def test_single_comparisons(text: str, expected: Comparison) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("params.p = 'salt and pepper'", "salt and pepper"),
        ("params.p = 'a AND b OR c'", "a AND b OR c"),
        ("params.p = 'it''s'", "it's"),
        ("params.p = 'it\\'s'", "it's"),
        ('params.p = "say ""hi"""', 'say "hi"'),
        ('params.p = "it\'s"', "it's"),
        ("params.p = ''", ""),
        ("params.p = '50\\%'", "50\\%"),
        ("params.p = '(x, y) = z'", "(x, y) = z"),
        ("params.p = 'ünïcødé ✓'", "ünïcødé ✓"),
    ],
)
def test_string_values(text: str, value: str) -> None:
    assert one(text).value == value


def test_conjunctions_are_case_insensitive_and_keep_order() -> None:
    text = (
        "params.optimizer = 'adam' and metrics.final_loss < 0.5 AND tags.sweep = 'v1' "
        "And params.note = 'salt and pepper'"
    )
    assert parse_filter(text, Target.RUNS) == [
        Comparison(P, "optimizer", Op.EQ, "adam"),
        Comparison(M, "final_loss", Op.LT, 0.5),
        Comparison(T, "sweep", Op.EQ, "v1"),
        Comparison(P, "note", Op.EQ, "salt and pepper"),
    ]


def test_numbers_keep_integer_type_for_attributes() -> None:
    assert isinstance(one("start_time = 1795669351779").value, int)
    assert isinstance(one("start_time = 1.5").value, float)
    assert isinstance(one("metrics.m = 1").value, float)
    assert one("start_time > 99999999999999999999999").value == pytest.approx(1e23)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.x >>> 1",
            "Invalid comparator '>>>' not one of '{'>', '>=', '!=', '=', '<', '<='}'",
        ),
        ("metrics.x == 1", "Invalid comparator '=='"),
        ("metrics.x <> 1", "Invalid comparator '<>'"),
        ("metrics.x LIKE 1", "Invalid comparator 'LIKE'"),
        ("metrics.x IN (1)", "Invalid comparator 'IN'"),
        ("metrics.x IS NULL", "Invalid comparator 'IS NULL'"),
        ("params.x > '1'", "Invalid comparator '>'"),
        ("tags.x <= 'a'", "Invalid comparator '<='"),
        ("tags.x NOT LIKE 'a'", "Invalid comparator 'NOT'"),
        ("start_time LIKE '1'", "Invalid comparator 'LIKE'"),
        ("status < 'a'", "Invalid comparator '<'"),
        ("status IS NULL", "Invalid comparator 'IS NULL'"),
        ("metrics.x = 'abc'", "Expected numeric value type for metric. Found 'abc'"),
        ("start_time = 'abc'", "Expected numeric value type for numeric attribute: start_time"),
        ("params.x = adam", "Parameter value is either not quoted"),
        ("params.x = 1", "Expected a quoted string value for param"),
        ("status = 1", "Expected a quoted string value"),
        ("metrics.x = 1 or metrics.y = 2", "Invalid clause(s) in filter string: 'or'"),
        ("metrics.x = 1 OR metrics.y = 2", "Only AND is supported"),
        ("params.a = 'x' params.b = 'y'", "Comparisons must be joined with AND"),
        ("metrics.a > 1 and", "expected a key"),
        ("and metrics.a > 1", "expected a key"),
        ("(metrics.a > 1)", "expected a key"),
        ("metrics.a > 1;", "unexpected character ';'"),
        ("metrics.a > 1; metrics.b < 2", "unexpected character ';'"),
        ("metrics.a", "expected a comparator"),
        ("metrics.a >", "Expected numeric value type for metric. Found nothing"),
        ("params.a = 'open", "unterminated ' quote"),
        ("tags.`open = 'x'", "unterminated ` quote"),
        ("tags. = 'x'", "expected a key name after '.'"),
        ("metrics.x > 1.2.3", "malformed number"),
        ("metrics.x > 1e999", "out of range"),
        ("foo.bar = 'x'", "Invalid entity type 'foo'"),
        ("name = 'x'", "Invalid attribute key 'name' specified"),
        ("attributes.foo = 'x'", "Invalid attribute key 'foo' specified"),
        ("dataset.foo = 'x'", "Invalid dataset key 'foo' specified"),
        ("run_id IN ()", "got empty list"),
        ("run_id IN ('a' 'b')", "ill-formed list"),
        ("run_id IN ('a', 1)", "got different type in list"),
        ("run_id IN 'a'", "expected a parenthesised list"),
        ("params.a = 'x' AND", "expected a key"),
        ("= 'x'", "expected a key"),
        ("'x' = params.a", "expected a key"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        parse_filter(text, Target.RUNS)
    assert message in info.value.message


def test_experiments_vocabulary() -> None:
    assert parse_filter("name = 'exp' AND tags.owner IS NOT NULL", Target.EXPERIMENTS) == [
        Comparison(A, "name", Op.EQ, "exp"),
        Comparison(T, "owner", Op.IS_NOT_NULL, None),
    ]
    assert one("experiment_id IN ('1', '22')", Target.EXPERIMENTS).value == (1, 22)
    assert one("experiment_id = '7'", Target.EXPERIMENTS).value == 7
    assert one("creation_time > 10", Target.EXPERIMENTS).value == 10
    for bad, message in [
        ("metrics.x > 1", "Invalid entity type 'metrics'"),
        ("params.x = 'a'", "Invalid entity type 'params'"),
        ("experiment_id = 'abc'", "must be a valid integer"),
        ("experiment_id IN ('1', 'x')", "must be a valid integer"),
        ("experiment_id = '99999999999999999999'", "must be a valid integer"),
        ("experiment_id > '1'", "Invalid comparator '>'"),
        ("run_name = 'x'", "Invalid attribute key 'run_name'"),
    ]:
        with pytest.raises(InvalidParameterValue) as info:
            parse_filter(bad, Target.EXPERIMENTS)
        assert message in info.value.message, bad


def test_registry_vocabulary() -> None:
    prompt_filter = "name = 'x' AND tag.`mlflow.prompt.is_prompt` != 'true'"
    assert parse_filter(prompt_filter, Target.REGISTERED_MODELS) == [
        Comparison(A, "name", Op.EQ, "x"),
        Comparison(T, "mlflow.prompt.is_prompt", Op.NE, "true"),
    ]
    assert one("run_id = 'r'", Target.MODEL_VERSIONS) == Comparison(A, "run_id", Op.EQ, "r")
    assert one("version_number >= 2", Target.MODEL_VERSIONS).value == 2
    assert one("source_path LIKE 'models:/%'", Target.MODEL_VERSIONS).op is Op.LIKE
    for bad, target in [
        ("tags.x IS NULL", Target.REGISTERED_MODELS),
        ("run_id = 'x'", Target.REGISTERED_MODELS),
        ("metrics.x > 1", Target.MODEL_VERSIONS),
        ("version_number = 'x'", Target.MODEL_VERSIONS),
    ]:
        with pytest.raises(InvalidParameterValue):
            parse_filter(bad, target)


def test_logged_models_vocabulary() -> None:
    text = "name = 'model' AND params.C = 0.1 AND source_run_id = 'r' AND metrics.acc > 0.9"
    assert parse_filter(text, Target.LOGGED_MODELS) == [
        Comparison(A, "name", Op.EQ, "model"),
        Comparison(P, "C", Op.EQ, "0.1"),
        Comparison(A, "source_run_id", Op.EQ, "r"),
        Comparison(M, "acc", Op.GT, 0.9),
    ]
    assert one("creation_time > 5", Target.LOGGED_MODELS).key == "creation_timestamp"
    assert one("last_updated_time > 5", Target.LOGGED_MODELS).key == "last_updated_timestamp"
    assert one("tags.t IN ('a', 1)", Target.LOGGED_MODELS).value == ("a", "1")
    with pytest.raises(InvalidParameterValue):
        parse_filter("dataset.name = 'x'", Target.LOGGED_MODELS)


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.loss DESC", OrderKey(M, "loss", ascending=False)),
        ("metrics.loss asc", OrderKey(M, "loss")),
        ("params.child_idx", OrderKey(P, "child_idx")),
        ("params.`a b` DESC", OrderKey(P, "a b", ascending=False)),
        ("tags.mlflow.runName", OrderKey(T, "mlflow.runName")),
        ("attributes.start_time ASC", OrderKey(A, "start_time")),
        ("created DESC", OrderKey(A, "start_time", ascending=False)),
        ("run_name", OrderKey(A, "run_name")),
        ("  end_time   desc ", OrderKey(A, "end_time", ascending=False)),
    ],
)
def test_order_by(clause: str, expected: OrderKey) -> None:
    assert parse_order_by([clause], Target.RUNS) == [expected]


@pytest.mark.parametrize(
    ("clauses", "message"),
    [
        ([""], "Could not be parsed"),
        (["metrics.x UP"], "Invalid ordering key in order_by clause 'metrics.x UP'."),
        (["metrics.x DESC extra"], "Could not be parsed"),
        (["metrics.x DESC, params.y"], "Could not be parsed"),
        (["'metrics.x'"], "Could not be parsed"),
        (["foo.x"], "Invalid entity type 'foo'"),
        (["dataset.name"], "Invalid entity type 'dataset'"),
        (["attributes.lifecycle_stage"], "Invalid attribute key"),
        (["metrics.x", "metrics.x DESC"], "`order_by` contains duplicate fields"),
        (["created", "start_time DESC"], "`order_by` contains duplicate fields"),
    ],
)
def test_order_by_errors(clauses: list[str], message: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        parse_order_by(clauses, Target.RUNS)
    assert message in info.value.message


def test_order_by_per_target() -> None:
    assert parse_order_by(None, Target.RUNS) == []
    assert parse_order_by(["name DESC", "experiment_id"], Target.EXPERIMENTS) == [
        OrderKey(A, "name", ascending=False),
        OrderKey(A, "experiment_id"),
    ]
    assert parse_order_by(["timestamp DESC"], Target.REGISTERED_MODELS) == [
        OrderKey(A, "last_updated_timestamp", ascending=False)
    ]
    assert parse_order_by(["metrics.acc DESC", "creation_time"], Target.LOGGED_MODELS) == [
        OrderKey(M, "acc", ascending=False),
        OrderKey(A, "creation_timestamp"),
    ]
    for clause, target in [
        ("tags.x", Target.EXPERIMENTS),
        ("run_id", Target.REGISTERED_MODELS),
        ("params.x", Target.LOGGED_MODELS),
    ]:
        with pytest.raises(InvalidParameterValue):
            parse_order_by([clause], target)


def test_logged_model_order_by_objects() -> None:
    parsed = parse_logged_model_order_by(
        [
            {
                "field_name": "metrics.acc",
                "ascending": False,
                "dataset_name": "d",
                "dataset_digest": "x",
            },
            {"field_name": "creation_time"},
            {"field_name": "metrics.acc", "dataset_name": "other"},
        ]
    )
    assert parsed == [
        OrderKey(M, "acc", ascending=False, dataset_name="d", dataset_digest="x"),
        OrderKey(A, "creation_timestamp"),
        OrderKey(M, "acc", dataset_name="other"),
    ]
    assert parse_logged_model_order_by(None) == []
    for bad, message in [
        (["metrics.acc"], "must be a list of dictionaries"),
        ([{}], "`field_name`"),
        ([{"field_name": "params.x"}], "only `metrics.<name>` is allowed"),
        ([{"field_name": "nope"}], "Invalid order by field name: nope."),
        ([{"field_name": "name", "ascending": "yes"}], "must be a boolean"),
        ([{"field_name": "metrics.a", "dataset_digest": "x"}], "`dataset_digest` can only"),
        ([{"field_name": "name"}, {"field_name": "name"}], "duplicate fields"),
    ]:
        with pytest.raises(InvalidParameterValue) as info:
            parse_logged_model_order_by(bad)
        assert message in info.value.message, bad
