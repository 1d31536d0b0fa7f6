# Sourced by the image scripts (base.sh, the Makefile's image targets): where the cache and podman's
# settings live, outside the clone. Exports MLPIPE_IMAGE_CACHE and CONTAINERS_CONF.
export MLPIPE_IMAGE_CACHE=${MLPIPE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlpipe/image}
mkdir -p "$MLPIPE_IMAGE_CACHE"
# crun fails here with "cgroups in hybrid mode not supported" and the default ulimits with
# "setrlimit RLIMIT_NOFILE: Operation not permitted": runc and lower limits. A CONTAINERS_CONF already
# set by the caller wins.
if [[ -z ${CONTAINERS_CONF:-} ]]; then
  if [[ ! -s $MLPIPE_IMAGE_CACHE/containers.conf ]]; then
    cat >"$MLPIPE_IMAGE_CACHE/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=10000:10000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
  fi
  export CONTAINERS_CONF=$MLPIPE_IMAGE_CACHE/containers.conf
fi
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
