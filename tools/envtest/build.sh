#!/usr/bin/env bash
# Builds kube-apiserver and etcd (and, with --kubectl, kubectl) from source through
# the Go module proxy into a cache folder outside the clone, keyed by version, so
# CI runs and later sessions reuse it. The last line printed is that folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

k8s="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
etcd="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
cache="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
dir="$cache/envtest/kubernetes-$k8s-etcd-$etcd"

want=(kube-apiserver etcd)
[[ "${1:-}" == "--kubectl" ]] && want+=(kubectl)

minor="${k8s#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"

mkdir -p "$dir"
for bin in "${want[@]}"; do
	[[ -x "$dir/$bin" ]] && continue
	case "$bin" in
	kube-apiserver) pkg=k8s.io/kubernetes/cmd/kube-apiserver ;;
	kubectl) pkg=k8s.io/kubernetes/cmd/kubectl ;;
	etcd) pkg=go.etcd.io/etcd/server/v3 ;;
	esac
	echo "envtest: building $bin ($pkg) into $dir; the first build takes about 10 minutes on 2 cores" >&2
	start=$SECONDS
	# Build to a temporary name and rename, so an interrupted build never leaves
	# a half-written binary that a later run would take as done.
	go build -trimpath -ldflags "$ldflags" -o "$dir/.$bin.tmp" "$pkg"
	mv "$dir/.$bin.tmp" "$dir/$bin"
	echo "envtest: built $bin in $((SECONDS - start))s" >&2
done
echo "$dir"
