#!/usr/bin/env bash
# First-time setup for deploying Stratus to Google Cloud with Pulumi.
#
#   scripts/gcp-bootstrap.sh PROJECT_ID REGION [STACK]
#
# Checks that gcloud and pulumi are installed and logged in, prepares a place for Pulumi's
# state (a private GCS bucket by default, or Pulumi Cloud), creates or selects the stack and
# sets gcp:project and gcp:region. Safe to run again: every step checks before it acts.
#
# Environment:
#   STRATUS_STATE_BACKEND  gcs (default) or pulumi-cloud
#   STRATUS_STATE_BUCKET   state bucket name for gcs (default: PROJECT_ID-pulumi-state)
#
# See docs/deploy.md for the whole procedure.
set -euo pipefail

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

info() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

if [[ $# -ge 1 && ($1 == "-h" || $1 == "--help") ]]; then
    usage
    exit 0
fi
if [[ $# -lt 2 || $# -gt 3 ]]; then
    usage >&2
    exit 2
fi

PROJECT_ID=$1
REGION=$2
STACK=${3:-dev}
BACKEND=${STRATUS_STATE_BACKEND:-gcs}
STATE_BUCKET=${STRATUS_STATE_BUCKET:-${PROJECT_ID}-pulumi-state}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

[[ $PROJECT_ID =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    die "'$PROJECT_ID' does not look like a project ID (6-30 lowercase letters, digits, dashes)."
[[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] ||
    die "'$REGION' does not look like a region (for example europe-west1 or us-central1)."
[[ $STACK =~ ^[A-Za-z0-9_.-]+$ ]] || die "'$STACK' is not a valid stack name."
[[ $BACKEND == gcs || $BACKEND == pulumi-cloud ]] ||
    die "STRATUS_STATE_BACKEND must be 'gcs' or 'pulumi-cloud', not '$BACKEND'."

# --- 1. Tools (no network) ------------------------------------------------------------------
info "Checking tools"
command -v gcloud >/dev/null 2>&1 ||
    die "gcloud is not installed: https://cloud.google.com/sdk/docs/install"
command -v pulumi >/dev/null 2>&1 ||
    die "pulumi is not installed: https://www.pulumi.com/docs/install/"
HAVE_DOCKER=0
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    HAVE_DOCKER=1
else
    warn "no running Docker engine: 'pulumi up' cannot build the image here." \
        "Build it with Cloud Build and set stratus:image (docs/deploy.md, 'Without Docker')."
fi

VENV_PYTHON="$REPO_ROOT/.venv/bin/python"
if [[ ! -x $VENV_PYTHON ]] ||
    ! "$VENV_PYTHON" -c 'import pulumi, pulumi_gcp, pulumi_docker_build' >/dev/null 2>&1; then
    die "the Pulumi program's virtualenv is missing or incomplete. From $REPO_ROOT run:
    python3 -m venv .venv && .venv/bin/pip install -e '.[infra]'"
fi

# --- 2. Google Cloud login and project ------------------------------------------------------
info "Checking gcloud login"
ACCOUNT=$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null || true)
ACCOUNT=${ACCOUNT%%$'\n'*}
[[ -n $ACCOUNT ]] || die "gcloud is not logged in. Run: gcloud auth login"
gcloud auth application-default print-access-token >/dev/null 2>&1 ||
    die "no Application Default Credentials (Pulumi's GCP provider uses them). Run:
    gcloud auth application-default login"
info "Logged in as $ACCOUNT"

gcloud projects describe "$PROJECT_ID" --format='value(projectId)' >/dev/null 2>&1 ||
    die "project '$PROJECT_ID' does not exist or $ACCOUNT cannot see it."

info "Enabling the APIs Pulumi itself needs (the program enables the rest)"
gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com \
    storage.googleapis.com --project "$PROJECT_ID" --quiet

# --- 3. Where Pulumi keeps its state --------------------------------------------------------
if [[ $BACKEND == gcs ]]; then
    if gcloud storage buckets describe "gs://$STATE_BUCKET" >/dev/null 2>&1; then
        info "State bucket gs://$STATE_BUCKET exists"
    else
        info "Creating private state bucket gs://$STATE_BUCKET in $REGION"
        gcloud storage buckets create "gs://$STATE_BUCKET" --project "$PROJECT_ID" \
            --location "$REGION" --uniform-bucket-level-access --public-access-prevention --quiet ||
            die "could not create gs://$STATE_BUCKET (names are global: set STRATUS_STATE_BUCKET)."
    fi
    # Versioning keeps every earlier state file: a bad `pulumi up` can be undone by hand.
    gcloud storage buckets update "gs://$STATE_BUCKET" --versioning --quiet >/dev/null
    pulumi login "gs://$STATE_BUCKET"
    if [[ -z ${PULUMI_CONFIG_PASSPHRASE+set} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
        warn "Pulumi will ask for a passphrase that protects secret config values." \
            "This stack stores no secrets, so an empty one is fine. To skip the prompt:" \
            "export PULUMI_CONFIG_PASSPHRASE=''"
    fi
else
    pulumi whoami >/dev/null 2>&1 || die "not logged in to Pulumi Cloud. Run: pulumi login"
    info "Using Pulumi Cloud as $(pulumi whoami)"
fi

# --- 4. Stack and its two required settings -------------------------------------------------
cd "$REPO_ROOT"
if pulumi stack select "$STACK" >/dev/null 2>&1; then
    info "Selected existing stack '$STACK'"
else
    info "Creating stack '$STACK'"
    pulumi stack init "$STACK"
fi
pulumi config set gcp:project "$PROJECT_ID"
pulumi config set gcp:region "$REGION"

if [[ $HAVE_DOCKER == 1 ]]; then
    info "Letting Docker push to $REGION-docker.pkg.dev with your gcloud login"
    gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet >/dev/null 2>&1 ||
        warn "gcloud auth configure-docker failed; run it by hand before 'pulumi up'."
fi

cat <<EOF

Stack '$STACK' is ready (project $PROJECT_ID, region $REGION). Next:

  pulumi config set --path 'stratus:admins[0]' you@example.com
  pulumi up

'pulumi up' prints 'mlflow_tracking_uri': the line researchers paste. See docs/deploy.md.
EOF
