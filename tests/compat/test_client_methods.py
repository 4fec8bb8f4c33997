"""Every ``MlflowClient`` method of the pinned client that talks to a tracking server is
called once against Stratus, or listed with its reason in tests/support/mlflow_surface.py.

One researcher's session, through a client that records which methods it was asked for.
A newer pinned client with a new method fails here until the method is called below or
listed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelOutput,
    Metric,
    Param,
    RunTag,
)
from mlflow.exceptions import MlflowException

from tests.support.mlflow_surface import CLIENT_METHODS_NOT_CALLED, client_methods


class Recording:
    """``MlflowClient`` that notes the name of every method the test calls on it."""

    def __init__(self, client: MlflowClient) -> None:
        self._client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if callable(attribute):
            self.called.add(name)
        return attribute


def test_listed_methods_exist_in_the_pinned_client() -> None:
    assert set(CLIENT_METHODS_NOT_CALLED) - set(client_methods()) == set()


def test_the_client_s_methods_against_stratus(
    client: MlflowClient, unique: str, tmp_path: Path
) -> None:
    c = Recording(client)
    _tracking(c, unique, tmp_path)
    _tracing_and_prompts(c, unique)
    assert c.called & set(CLIENT_METHODS_NOT_CALLED) == set()
    missing = set(client_methods()) - c.called - set(CLIENT_METHODS_NOT_CALLED)
    assert missing == set(), "call these here, or list them in tests/support/mlflow_surface.py"


def _tracking(c: Any, unique: str, tmp_path: Path) -> None:
    # --- experiments ---
    exp = c.create_experiment(f"client-{unique}", tags={"team": "a"})
    assert c.get_experiment(exp).tags["team"] == "a"
    c.rename_experiment(exp, f"client-{unique}-renamed")
    assert c.get_experiment_by_name(f"client-{unique}-renamed").experiment_id == exp
    c.set_experiment_tag(exp, "stage", "dev")
    c.delete_experiment_tag(exp, "stage")
    assert [e.experiment_id for e in c.search_experiments(filter_string=f"name LIKE '%{unique}%'")]
    doomed = c.create_experiment(f"client-{unique}-doomed")
    c.delete_experiment(doomed)
    c.restore_experiment(doomed)

    # --- runs, params, metrics, tags ---
    run = c.create_run(exp, run_name="parent")
    run_id = run.info.run_id
    c.update_run(run_id, name="parent-renamed")
    c.set_tag(run_id, "t", "1")
    c.delete_tag(run_id, "t")
    c.log_param(run_id, "lr", "0.1")
    c.log_metric(run_id, "loss", 0.5, step=1)
    c.log_batch(
        run_id,
        metrics=[Metric("acc", 0.9, 1, 0)],
        params=[Param("epochs", "3")],
        tags=[RunTag("k", "v")],
    )
    assert [m.value for m in c.get_metric_history(run_id, "loss")] == [0.5]
    child = c.create_run(exp, tags={"mlflow.parentRunId": run_id}).info.run_id
    assert c.get_parent_run(child).info.run_id == run_id
    c.set_terminated(child, "FINISHED")
    c.delete_run(child)
    c.restore_run(child)
    assert run_id in [r.info.run_id for r in c.search_runs([exp], "params.lr = '0.1'")]
    dataset = Dataset("train", "d1", "local", "source")
    c.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])

    # --- run artifacts ---
    local = tmp_path / "a.txt"
    local.write_text("hello")
    c.log_artifact(run_id, str(local))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.txt").write_text("b")
    c.log_artifacts(run_id, str(folder), "folder")
    c.log_text(run_id, "text", "notes/t.txt")
    c.log_dict(run_id, {"a": 1}, "notes/d.json")
    c.log_stream(run_id, io.BytesIO(b"streamed"), "notes/s.bin")
    c.log_table(run_id, {"x": [1, 2], "y": [3, 4]}, "table.json")
    assert len(c.load_table(exp, "table.json", run_ids=[run_id])) == 2
    _figure_and_image(c, run_id)
    names = {f.path for f in c.list_artifacts(run_id)}
    assert {"a.txt", "folder", "notes", "table.json", "figure.png", "image.png"} <= names
    got = c.download_artifacts(run_id, "notes/t.txt", str(tmp_path / "down"))
    assert Path(got).read_text() == "text"

    # --- logged models ---
    model = c.create_logged_model(exp, name="model", source_run_id=run_id)
    model_id = model.model_id
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    c.log_model_artifacts(model_id, str(model_dir))
    (tmp_path / "extra.txt").write_text("x")
    c.log_model_artifact(model_id, str(tmp_path / "extra.txt"))
    assert {f.path for f in c.list_logged_model_artifacts(model_id)} == {"MLmodel", "extra.txt"}
    c.log_model_params(model_id, {"alpha": "0.5"})
    c.set_logged_model_tags(model_id, {"owner": "me"})
    c.delete_logged_model_tag(model_id, "owner")
    c.finalize_logged_model(model_id, "READY")
    assert c.get_logged_model(model_id).params == {"alpha": "0.5"}
    c.log_outputs(run_id, [LoggedModelOutput(model_id, 0)])
    assert [m.model_id for m in c.search_logged_models([exp])] == [model_id]
    c.update_run(run_id, status="FINISHED")
    assert c.get_run(run_id).outputs.model_outputs[0].model_id == model_id

    _registry(c, unique, model_id, run_id)

    throwaway = c.create_logged_model(exp, name="throwaway").model_id
    c.delete_logged_model(throwaway)


def _figure_and_image(c: Any, run_id: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots()
    axes.plot([1, 2], [3, 4])
    c.log_figure(run_id, figure, "figure.png")
    plt.close(figure)
    c.log_image(run_id, np.zeros((4, 4, 3), dtype=np.uint8), "image.png")


def _registry(c: Any, unique: str, model_id: str, run_id: str) -> None:
    name = f"client-model-{unique}"
    c.create_registered_model(name, tags={"t": "1"}, description="d")
    c.update_registered_model(name, description="d2")
    c.set_registered_model_tag(name, "k", "v")
    c.delete_registered_model_tag(name, "k")
    version = c.create_model_version(name, f"models:/{model_id}", run_id=run_id, model_id=model_id)
    assert version.version == "1"
    c.update_model_version(name, "1", description="v1")
    c.set_model_version_tag(name, "1", "k", "v")
    c.delete_model_version_tag(name, "1", "k")
    assert c.get_model_version(name, "1").description == "v1"
    assert c.get_model_version_download_uri(name, "1").endswith("/artifacts")
    c.transition_model_version_stage(name, "1", "Staging")
    assert [v.version for v in c.get_latest_versions(name, ["Staging"])] == ["1"]
    c.set_registered_model_alias(name, "champion", "1")
    assert c.get_model_version_by_alias(name, "champion").version == "1"
    c.delete_registered_model_alias(name, "champion")
    assert [v.version for v in c.search_model_versions(f"name = '{name}'")] == ["1"]
    assert [m.name for m in c.search_registered_models(f"name = '{name}'")] == [name]
    assert c.get_registered_model(name).name == name
    copy = c.copy_model_version(f"models:/{name}/1", f"{name}-copy")
    assert copy.name == f"{name}-copy"
    c.rename_registered_model(f"{name}-copy", f"{name}-copy2")
    c.delete_model_version(f"{name}-copy2", "1")
    c.delete_registered_model(f"{name}-copy2")
    assert json.loads(c.get_logged_model(model_id).tags["mlflow.modelVersions"])[0]["version"] == 1


def _tracing_and_prompts(c: Any, unique: str) -> None:
    import mlflow

    exp = c.create_experiment(f"client-traces-{unique}")
    run_id = c.create_run(exp).info.run_id
    model_id = c.create_logged_model(exp, name="traced-model").model_id

    # --- traces and spans ---
    root = c.start_trace("root", inputs={"q": "hi"}, tags={"t": "1"}, experiment_id=exp)
    trace_id = root.trace_id
    child = c.start_span("child", trace_id, root.span_id, span_type="LLM", inputs={"x": 1})
    c.end_span(trace_id, child.span_id, outputs={"y": 2}, attributes={"tokens": 3})
    c.end_trace(trace_id, outputs={"a": "ok"})
    mlflow.flush_trace_async_logging(terminate=False)
    trace = c.get_trace(trace_id)
    assert trace.info.tags["t"] == "1"
    spans = {span.name: span for span in trace.data.spans}
    assert spans["child"].parent_id == spans["root"].span_id
    assert (spans["child"].outputs, spans["child"].attributes["tokens"]) == ({"y": 2}, 3)
    assert spans["root"].outputs == {"a": "ok"}
    c.set_trace_tag(trace_id, "k", "v")
    c.delete_trace_tag(trace_id, "t")
    assert c.get_trace(trace_id).info.tags.get("k") == "v"
    assert "t" not in c.get_trace(trace_id).info.tags
    c.link_traces_to_run([trace_id], run_id)
    found = c.search_traces(locations=[exp], run_id=run_id)
    assert [t.info.trace_id for t in found] == [trace_id]

    # --- prompts ---
    name = f"client-prompt-{unique}"
    created = c.create_prompt(name, description="greets", tags={"team": "nlp"})
    assert created.name == name
    first = c.create_prompt_version(name, "Hello {{who}}", description="v1", tags={"a": "1"})
    assert first.version == 1
    second = c.register_prompt(name, "Hi {{who}}", commit_message="v2")
    assert second.version == 2
    prompt = c.get_prompt(name)
    assert (prompt.name, prompt.tags.get("team")) == (name, "nlp")
    assert c.get_prompt_version(name, 1).template == "Hello {{who}}"
    assert c.load_prompt(f"prompts:/{name}/2").template == "Hi {{who}}"
    c.set_prompt_alias(name, "production", 1)
    assert c.get_prompt_version_by_alias(name, "production").version == 1
    c.delete_prompt_alias(name, "production")
    assert [p.name for p in c.search_prompts(filter_string=f"name = '{name}'")] == [name]
    versions = c.search_prompt_versions(name)
    assert sorted(v.version for v in versions) == [1, 2]
    c.set_prompt_tag(name, "stage", "dev")
    assert c.get_prompt(name).tags["stage"] == "dev"
    c.delete_prompt_tag(name, "stage")
    assert "stage" not in c.get_prompt(name).tags
    c.set_prompt_version_tag(name, 1, "reviewed", "yes")
    assert c.get_prompt_version(name, 1).tags["reviewed"] == "yes"
    c.delete_prompt_version_tag(name, 1, "reviewed")
    assert "reviewed" not in c.get_prompt_version(name, 1).tags

    c.link_prompt_versions_to_trace([first], trace_id)
    assert name in c.get_trace(trace_id).info.tags["mlflow.linkedPrompts"]
    c.link_prompt_version_to_run(run_id, f"prompts:/{name}/1")
    assert name in c.get_run(run_id).data.tags["mlflow.linkedPrompts"]
    # The 3.17 client lists and detaches a run's prompts by a version tag only older
    # clients wrote (link_prompt_version_to_run now tags the run): write it as they did.
    c.set_prompt_version_tag(name, 1, "mlflow.prompt.associatedRunIds", run_id)
    assert [(p.name, p.version) for p in c.list_logged_prompts(run_id)] == [(name, 1)]
    c.detach_prompt_from_run(run_id, f"prompts:/{name}/1")
    assert c.list_logged_prompts(run_id) == []
    c.link_prompt_version_to_model(name, "2", model_id)
    assert name in c.get_logged_model(model_id).tags["mlflow.linkedPrompts"]

    assert c.delete_traces(exp, trace_ids=[trace_id]) == 1
    c.delete_prompt_version(name, "2")
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        c.get_prompt_version(name, 2)
    c.delete_prompt_version(name, "1")
    c.delete_prompt(name)
    assert c.get_prompt(name) is None
