# The mlpipe serving image: `mlpipe serve` as a non-root PID 1 on 0.0.0.0:8080, configured by MLPIPE_*.
#
# Do not build this folder directly: the build context is written by `make image` (no bundle) or
# `mlpipe containerize <bundle-ref>` (a verified bundle baked in), both through
# src/core/deploy/context.ts. The context holds:
#   app/         bin/, dist/ (compiled on the host), the runtime package.json + package-lock.json of
#                deploy/image/ and their node_modules (npm ci --omit=dev of that lockfile)
#   artifacts/   the bundle store baked in (empty without a bundle)
#   keys/        public keys the baked bundle must be signed by (empty unless --require-signature)
#   prune.mjs    deletes what node never loads from node_modules (docs, source maps, types, tests)
# Nothing is fetched while building: the machines this is built on reach no image registry, and the
# base has no npm. docs/deploy.md, "The image", says why and how.
#
# BASE: by default the offline Debian bookworm + Node 20 base of deploy/image/base.sh; with a registry,
#   --build-arg BASE=node:20-bookworm-slim (node is /usr/local/bin/node in both).
# A context with a bundle baked in ends with the ENV lines that name it (MLPIPE_MODEL, and
# MLPIPE_REQUIRE_SIGNATURE with --require-signature), added by the context writer. Without MLPIPE_MODEL,
# serve serves every bundle in MLPIPE_ARTIFACTS. Build with `--format docker` (podman) so HEALTHCHECK is kept.
ARG BASE=localhost/mlpipe-base:bookworm-node20

FROM ${BASE} AS build
WORKDIR /build
COPY app/ app/
COPY prune.mjs ./
COPY artifacts/ artifacts/
COPY keys/ keys/
# Prune node_modules, then prove the CLI starts with only these modules before anything is shipped.
RUN node prune.mjs app/node_modules \
 && node app/bin/mlpipe --version \
 && node app/bin/mlpipe serve --help >/dev/null \
 && chmod -R a+rX,go-w app artifacts keys

FROM ${BASE}
# A user of its own (uid 10001, no shell, no password); the files it runs are root's and read-only to it.
RUN echo 'mlpipe:x:10001:10001:mlpipe:/srv/mlpipe:/usr/sbin/nologin' >>/etc/passwd \
 && echo 'mlpipe:x:10001:' >>/etc/group
COPY --from=build /build/app/ /srv/mlpipe/app/
COPY --from=build /build/artifacts/ /srv/mlpipe/artifacts/
COPY --from=build /build/keys/ /srv/mlpipe/keys/
# MLPIPE_CACHE (copies of a remote store's bundles) under /tmp: the one writable place of a container
# run with a read-only root filesystem (podman --read-only mounts a tmpfs there; Kubernetes an emptyDir).
ENV NODE_ENV=production \
    MLPIPE_HOST=0.0.0.0 \
    MLPIPE_PORT=8080 \
    MLPIPE_ARTIFACTS=/srv/mlpipe/artifacts \
    MLPIPE_CACHE=/tmp/mlpipe-cache
USER 10001:10001
WORKDIR /srv/mlpipe
EXPOSE 8080
# No curl in the image: node asks /healthz on the port the server listens on.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MLPIPE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 (exec form, no shell): SIGTERM reaches serve, which drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/srv/mlpipe/app/bin/mlpipe"]
CMD ["serve"]
