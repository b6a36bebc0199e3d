#!/bin/sh
# Runs a lab node the way a pod runs: called as `ip netns exec NS unshare --uts -- sh enter.sh HOSTNAME [SRC:DEST]... -- CMD…`
# inside the node's network namespace (its own address; `ip netns exec` also gives it a private mount namespace and
# /etc/netns/NS/hosts as /etc/hosts, the lab's DNS). It sets the hostname, bind-mounts each SRC over DEST (the node's
# volumes at the paths the Kubernetes manifests use) and execs the node, so the node keeps this process's PID and a
# SIGKILL of it is a SIGKILL of the node. Written by src/FedCoLLM.Cli/Lab/LabNetwork.cs; not meant to be run by hand.
set -eu
hostname "$1"
shift
while [ "$1" != "--" ]; do
  src="${1%%:*}"
  dest="${1#*:}"
  mkdir -p "$dest"
  mount --bind "$src" "$dest"
  shift
done
shift
exec "$@"
