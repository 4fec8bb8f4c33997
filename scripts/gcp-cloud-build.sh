#!/usr/bin/env bash
# Build the server image with Cloud Build (no local Docker needed), as a dedicated build
# service account with only the roles the build needs, and print the digest for the stack.
#
#   scripts/gcp-cloud-build.sh PROJECT_ID REGION
#
# On a new project Cloud Build would otherwise run as the Compute Engine default service
# account, which needs the Compute Engine API and broad roles that secure-by-default
# organizations do not grant. This script instead creates, once:
#   * the Artifact Registry repository  stratus-ci  (the stack's own is named after it);
#   * the service account  stratus-build@PROJECT_ID.iam.gserviceaccount.com  with
#       roles/artifactregistry.writer  on that repository only,
#       roles/storage.objectViewer     on the source bucket below only,
#       roles/logging.logWriter        on the project (build logs go to Cloud Logging only);
#   * the private bucket  gs://PROJECT_ID-stratus-build  that holds uploaded sources (7 days).
# Then it submits the build as that account and prints the `pulumi config set stratus:image`
# line, pinned by digest. Safe to run again. You need Service Account User on the account
# (Owners have it). See docs/deploy.md, "Without Docker".
#
# Environment:
#   STRATUS_IMAGE_TAG  the image tag (default: the short git commit)
set -euo pipefail

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}
info() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

if [[ $# -ge 1 && ($1 == "-h" || $1 == "--help") ]]; then
    usage
    exit 0
fi
if [[ $# -ne 2 ]]; then
    usage >&2
    exit 2
fi

PROJECT_ID=$1
REGION=$2
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPOSITORY=stratus-ci
ACCOUNT_ID=stratus-build
ACCOUNT="$ACCOUNT_ID@$PROJECT_ID.iam.gserviceaccount.com"
SOURCE_BUCKET="gs://$PROJECT_ID-stratus-build"
IMAGE="$REGION-docker.pkg.dev/$PROJECT_ID/$REPOSITORY/stratus"

[[ $PROJECT_ID =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    die "'$PROJECT_ID' does not look like a project ID (6-30 lowercase letters, digits, dashes)."
[[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] ||
    die "'$REGION' does not look like a region (for example europe-west1 or us-central1)."
command -v gcloud >/dev/null 2>&1 ||
    die "gcloud is not installed: https://cloud.google.com/sdk/docs/install"
TAG=${STRATUS_IMAGE_TAG:-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || true)}
[[ -n $TAG ]] || die "no git commit to tag the image with: set STRATUS_IMAGE_TAG."

info "Enabling Cloud Build and Artifact Registry (not Compute Engine)"
gcloud services enable cloudbuild.googleapis.com artifactregistry.googleapis.com \
    --project "$PROJECT_ID" --quiet

if ! gcloud artifacts repositories describe "$REPOSITORY" --location "$REGION" \
    --project "$PROJECT_ID" >/dev/null 2>&1; then
    info "Creating repository $REPOSITORY"
    gcloud artifacts repositories create "$REPOSITORY" --repository-format docker \
        --location "$REGION" --project "$PROJECT_ID" --quiet
fi
if ! gcloud iam service-accounts describe "$ACCOUNT" --project "$PROJECT_ID" >/dev/null 2>&1; then
    info "Creating build service account $ACCOUNT"
    gcloud iam service-accounts create "$ACCOUNT_ID" --project "$PROJECT_ID" \
        --display-name "Stratus image builds (Cloud Build)" --quiet
fi
if ! gcloud storage buckets describe "$SOURCE_BUCKET" >/dev/null 2>&1; then
    info "Creating source bucket $SOURCE_BUCKET"
    gcloud storage buckets create "$SOURCE_BUCKET" --project "$PROJECT_ID" --location "$REGION" \
        --uniform-bucket-level-access --public-access-prevention --quiet
fi
LIFECYCLE=$(mktemp)
trap 'rm -f "$LIFECYCLE" "${BUILD_CONFIG:-}"' EXIT
printf '{"rule": [{"action": {"type": "Delete"}, "condition": {"age": 7}}]}\n' >"$LIFECYCLE"
gcloud storage buckets update "$SOURCE_BUCKET" --lifecycle-file "$LIFECYCLE" --quiet >/dev/null

info "Granting the build account its three roles"
gcloud artifacts repositories add-iam-policy-binding "$REPOSITORY" --location "$REGION" \
    --project "$PROJECT_ID" --member "serviceAccount:$ACCOUNT" \
    --role roles/artifactregistry.writer --quiet >/dev/null
gcloud storage buckets add-iam-policy-binding "$SOURCE_BUCKET" \
    --member "serviceAccount:$ACCOUNT" --role roles/storage.objectViewer --quiet >/dev/null
gcloud projects add-iam-policy-binding "$PROJECT_ID" --member "serviceAccount:$ACCOUNT" \
    --role roles/logging.logWriter --condition None --quiet >/dev/null

# A build that runs as a chosen account must log to Cloud Logging only (or to a bucket of
# ours); the default logs bucket would need more roles.
BUILD_CONFIG=$(mktemp)
cat >"$BUILD_CONFIG" <<YAML
steps:
  - name: gcr.io/cloud-builders/docker
    args: [build, --tag, "$IMAGE:$TAG", .]
images: ["$IMAGE:$TAG"]
options:
  logging: CLOUD_LOGGING_ONLY
YAML

info "Building $IMAGE:$TAG as $ACCOUNT"
gcloud builds submit "$REPO_ROOT" --project "$PROJECT_ID" --region "$REGION" \
    --config "$BUILD_CONFIG" --service-account "projects/$PROJECT_ID/serviceAccounts/$ACCOUNT" \
    --gcs-source-staging-dir "$SOURCE_BUCKET/source" --quiet

DIGEST=$(gcloud artifacts docker images describe "$IMAGE:$TAG" --project "$PROJECT_ID" \
    --format 'value(image_summary.digest)')
[[ $DIGEST == sha256:* ]] || die "could not read the digest of $IMAGE:$TAG"

cat <<EOF

Built $IMAGE:$TAG. Give it to the stack, pinned by digest, then deploy:

  pulumi config set stratus:image $IMAGE@$DIGEST
  pulumi up
EOF
