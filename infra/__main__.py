"""Entry point of the Pulumi program (Pulumi.yaml: ``main: infra/``): config in, exports out."""

import sys
from pathlib import Path

# Pulumi runs this file with infra/ as the working directory; make `infra` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from infra.config import load_config
from infra.stack import build_stack

outputs = build_stack(load_config())

pulumi.export("service_url", outputs.service_url)
pulumi.export(
    "mlflow_tracking_uri",
    outputs.service_url.apply(lambda url: f"export MLFLOW_TRACKING_URI={url}"),
)
pulumi.export("artifact_bucket", outputs.artifact_bucket)
pulumi.export("artifact_root", outputs.artifact_root)
pulumi.export("cloud_sql_connection_name", outputs.cloud_sql_connection_name)
pulumi.export("service_account_email", outputs.service_account_email)
pulumi.export("image", outputs.image)
