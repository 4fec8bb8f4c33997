#!/usr/bin/env bash
# First-time setup for deploying Stratus to Google Cloud with Pulumi.
#
#   scripts/gcp-bootstrap.sh PROJECT_ID REGION [STACK]
#
# Checks that gcloud and pulumi are installed and logged in, points gcloud and the
# Application Default Credentials' quota project at PROJECT_ID, prepares a place for Pulumi's
# state (a private GCS bucket by default, or Pulumi Cloud) and a Cloud KMS key that encrypts
# the stack's secrets in it, creates or selects the stack and sets gcp:project and gcp:region.
# Your global Pulumi login is left alone: the state backend goes into an env file for this
# checkout (.stratus/deploy.env) that you source before running pulumi.
# Safe to run again: every step checks before it acts.
#
# Environment:
#   STRATUS_STATE_BACKEND  gcs (default) or pulumi-cloud
#   STRATUS_STATE_BUCKET   state bucket name for gcs (default: PROJECT_ID-pulumi-state)
#   STRATUS_DEPLOY_ENV     where to write the env file (default: .stratus/deploy.env)
#
# See docs/deploy.md for the whole procedure.
set -euo pipefail

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
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
DEPLOY_ENV=${STRATUS_DEPLOY_ENV:-$REPO_ROOT/.stratus/deploy.env}
# The key that encrypts the stack's secrets (the session-signing key) inside the state.
KMS_KEYRING=stratus-pulumi
KMS_KEY=state-secrets
KMS_KEY_NAME="projects/$PROJECT_ID/locations/$REGION/keyRings/$KMS_KEYRING/cryptoKeys/$KMS_KEY"
SECRETS_PROVIDER="gcpkms://$KMS_KEY_NAME"

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
    scripts/setup-dev.sh"
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

# gcloud commands and the Google client libraries (Pulumi's provider, the Cloud SQL
# connector) bill API quota to the ADC's quota project: make both this project.
info "Pointing gcloud and your Application Default Credentials at $PROJECT_ID"
gcloud config set project "$PROJECT_ID" --quiet >/dev/null 2>&1
gcloud auth application-default set-quota-project "$PROJECT_ID" --quiet >/dev/null 2>&1 ||
    warn "could not set the ADC quota project (it needs serviceusage.services.use on" \
        "$PROJECT_ID); run: gcloud auth application-default set-quota-project $PROJECT_ID"

info "Enabling the APIs Pulumi itself needs (the program enables the rest)"
gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com \
    storage.googleapis.com cloudkms.googleapis.com --project "$PROJECT_ID" --quiet

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
    BACKEND_URL="gs://$STATE_BUCKET"

    # The state holds one secret, the session-signing key. Pulumi encrypts secrets with the
    # stack's secrets provider, here a Cloud KMS key: reading the bucket is not enough to
    # read the key, that also takes decrypt permission on this KMS key.
    if gcloud kms keyrings describe "$KMS_KEYRING" --location "$REGION" \
        --project "$PROJECT_ID" >/dev/null 2>&1; then
        info "KMS key ring $KMS_KEYRING exists"
    else
        info "Creating KMS key ring $KMS_KEYRING in $REGION"
        gcloud kms keyrings create "$KMS_KEYRING" --location "$REGION" \
            --project "$PROJECT_ID" --quiet
    fi
    if gcloud kms keys describe "$KMS_KEY" --keyring "$KMS_KEYRING" --location "$REGION" \
        --project "$PROJECT_ID" >/dev/null 2>&1; then
        info "KMS key $KMS_KEY exists"
    else
        info "Creating KMS key $KMS_KEY"
        gcloud kms keys create "$KMS_KEY" --keyring "$KMS_KEYRING" --location "$REGION" \
            --project "$PROJECT_ID" --purpose encryption --quiet
    fi
    case $ACCOUNT in
        *.gserviceaccount.com) PRINCIPAL="serviceAccount:$ACCOUNT" ;;
        *) PRINCIPAL="user:$ACCOUNT" ;;
    esac
    info "Letting $ACCOUNT encrypt and decrypt with it"
    gcloud kms keys add-iam-policy-binding "$KMS_KEY" --keyring "$KMS_KEYRING" \
        --location "$REGION" --project "$PROJECT_ID" --member "$PRINCIPAL" \
        --role roles/cloudkms.cryptoKeyEncrypterDecrypter --quiet >/dev/null
else
    BACKEND_URL=https://api.pulumi.com
    # Pulumi Cloud encrypts each stack's secrets with a key of its own per stack.
    SECRETS_PROVIDER=default
    PULUMI_BACKEND_URL=$BACKEND_URL pulumi whoami >/dev/null 2>&1 ||
        die "not logged in to Pulumi Cloud. Run: pulumi login https://api.pulumi.com"
fi

# Pulumi reads PULUMI_BACKEND_URL before its global login, so this checkout uses this
# backend while every other project of yours keeps its own.
export PULUMI_BACKEND_URL=$BACKEND_URL
mkdir -p "$(dirname "$DEPLOY_ENV")"
cat >"$DEPLOY_ENV" <<ENV
# Written by scripts/gcp-bootstrap.sh for stack '$STACK'. Source it before running pulumi.
export PULUMI_BACKEND_URL=$BACKEND_URL
export PULUMI_STACK=$STACK
export CLOUDSDK_CORE_PROJECT=$PROJECT_ID
ENV
info "Wrote $DEPLOY_ENV"

# --- 4. Stack and its two required settings -------------------------------------------------
cd "$REPO_ROOT"
if pulumi stack select "$STACK" >/dev/null 2>&1; then
    info "Selected existing stack '$STACK'"
    if [[ $SECRETS_PROVIDER == gcpkms://* ]] &&
        ! grep -qsF "secretsprovider: $SECRETS_PROVIDER" "Pulumi.$STACK.yaml"; then
        info "Moving the stack's secrets to the KMS key"
        pulumi stack change-secrets-provider --stack "$STACK" "$SECRETS_PROVIDER"
    fi
else
    info "Creating stack '$STACK'"
    pulumi stack init "$STACK" --secrets-provider "$SECRETS_PROVIDER" ||
        die "could not create stack '$STACK'. A permission error on the KMS key right after
    it was granted is IAM propagation: wait a minute and run this script again."
fi
pulumi config set gcp:project "$PROJECT_ID"
pulumi config set gcp:region "$REGION"

if [[ $HAVE_DOCKER == 1 ]]; then
    info "Letting Docker push to $REGION-docker.pkg.dev with your gcloud login"
    gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet >/dev/null 2>&1 ||
        warn "gcloud auth configure-docker failed; run it by hand before 'pulumi up'."
fi

cat <<EOF

Stack '$STACK' is ready (project $PROJECT_ID, region $REGION). Next, in this shell and
in every new one you deploy from:

  source ${DEPLOY_ENV#"$REPO_ROOT"/}
  pulumi config set --path 'stratus:admins[0]' you@example.com
  pulumi up

'pulumi up' prints 'mlflow_tracking_uri': the line researchers paste. See docs/deploy.md.
EOF
