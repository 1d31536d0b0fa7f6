# mlpipe — developer and CI entry points. `make demo` and `make test` are the two set-up commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json
# Every test file. Named here, not in .mocharc.json: mocha adds a config's spec to the files given on
# its command line, so `npx mocha some.test.ts` would run the whole suite.
TEST_SPECS := 'src/**/*.test.ts' 'test/**/*.test.ts'

.PHONY: help install build typecheck test reliability schema demo bench bench-deps browser-deps bench-load bench-serve bench-train bench-store bench-predict accuracy-reference clean

help:
	@echo "make demo       install, train + package the example, serve it, send it predictions"
	@echo "make test       type check + the whole test suite"
	@echo "make install    npm ci (from the lockfile; also builds dist/)"
	@echo "make reliability  the reliability suite at full size (property tests, 10,000 fuzzed requests, faults, 60 s of load); prints its counts"
	@echo "make typecheck  tsc --noEmit over sources, tests and benchmarks"
	@echo "make schema     regenerate schema/pipeline.schema.json and the settings table of docs/pipeline-yaml.md from PIPELINE_SCHEMA"
	@echo "make bench      benchmarks (ratios against a baseline measured in the same run)"
	@echo "make bench-serve serving: single records vs bare Express, p99, --workers 2 vs 1, 1M streamed rows, protocol routes (ARGS=--quick)"
	@echo "make bench-predict bulk scoring of 1M rows from CSV and PostgreSQL vs pandas + scikit-learn (ARGS=--quick: 50k rows)"
	@echo "make bench-store push/pull of a 100-tree bundle to s3rver vs plain @aws-sdk/client-s3"
	@echo "make bench-deps Debian's python3-sklearn, python3-pandas and python3-psycopg2, the optional Python side of bench/ (root)"
	@echo "make accuracy-reference  rewrite bench/accuracy/reference.json, scikit-learn's scores for test/accuracy.test.ts (needs bench-deps)"
	@echo "make browser-deps Debian's chromium, for the report's browser test (root)"
	@echo "make image      the container image localhost/mlpipe:<version> and :latest (podman; the offline base first if missing)"
	@echo "make image-test build and run images: ready, same predictions as mlpipe predict, non-root, SIGTERM drains, tampered bundle refused"
	@echo "make image-deps podman, runc, mmdebstrap … from Debian's packages when missing (root); make image-base: the base image"
	@echo "make bench-image image size and cold start (container start to first prediction) against serve on the host"
	@echo "make clean      remove dist/, the artifacts store and temporary files"

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_MODULES)

install: $(NODE_MODULES)

build: install
	npx tsc -p tsconfig.build.json

typecheck: install
	npx tsc -p tsconfig.json --noEmit

# The CLI tests run bin/mlpipe, which uses dist/ when it exists: build first so they test this source.
test: typecheck build
	npx mocha $(TEST_SPECS)

# The reliability suite (issue 11) at full size: every *.reliability.test.ts with MLPIPE_RELIABILITY=full
# (make test runs the same files at a quick size). Prints the counts; exits non-zero on any failure.
RELIABILITY_COUNTS := $(CURDIR)/.mlpipe-reliability.ndjson
RELIABILITY_RESULTS := $(CURDIR)/.mlpipe-reliability-results.json
reliability: build
	@rm -f $(RELIABILITY_COUNTS) $(RELIABILITY_RESULTS)
	MLPIPE_RELIABILITY=full MLPIPE_RELIABILITY_COUNTS=$(RELIABILITY_COUNTS) MLPIPE_TEST_RESULTS=$(RELIABILITY_RESULTS) \
	  npx mocha 'src/**/*.reliability.test.ts' 'test/**/*.reliability.test.ts'; \
	  node --import tsx scripts/reliability-summary.ts $(RELIABILITY_COUNTS) $(RELIABILITY_RESULTS) $$?

# The published JSON Schema of pipeline.yaml and the settings table of docs/pipeline-yaml.md, from the sources (not dist/).
schema: install
	node --import tsx scripts/schema.ts

demo: build
	bash scripts/demo.sh

bench: build
	node --import tsx bench/serve.ts
	node --import tsx bench/load.ts
	node --import tsx bench/train.ts
	node --import tsx bench/store.ts
	node --import tsx bench/predict.ts

# Serving under load (bench/serve.ts): single records against bare Express, p99 at 10 connections,
# --workers 2 against one, 1M rows through /predict/stream, /v2 and /invocations against /predict/batch.
bench-serve: build
	node --import tsx bench/serve.ts $(ARGS)

# Push and pull of a 100-tree bundle to s3rver against plain @aws-sdk/client-s3 (ARGS=--rounds 11).
bench-store: build
	node --import tsx bench/store.ts $(ARGS)

# Bulk scoring (mlpipe predict) of 1M rows from a CSV file and from PostgreSQL against pandas +
# scikit-learn on the same rows, rows/s and peak memory (ARGS=--quick: 50k rows; --rows 200k).
bench-predict: build
	node --import tsx bench/predict.ts $(ARGS)

# Loading speed and memory against danfojs-node and pandas (ARGS=--quick: 100k rows).
bench-load: build
	node --import tsx bench/load.ts $(ARGS)

# scikit-learn for the side-by-side columns of bench/train and bench/predict (optional: without it they say "skipped");
# psycopg2 for bench/predict's pandas.read_sql from PostgreSQL.
bench-deps:
	/usr/bin/python3 -c "import sklearn, pandas, psycopg2" 2>/dev/null || (apt-get update && apt-get install -y -o DPkg::Lock::Timeout=300 python3-sklearn python3-pandas python3-psycopg2)

# Training speed against scikit-learn and ml-random-forest (~1 h on 2 cores; ARGS=--quick for a smoke check).
bench-train: build
	node --import tsx bench/train.ts $(ARGS)

# Debian's Chromium for src/core/report/report-browser.test.ts (playwright-core drives it; no download).
browser-deps:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y -o DPkg::Lock::Timeout=300 chromium)

# The container image (issue 14; docs/deploy.md, "The image"). Podman's settings (runc, ulimits) and the slow
# downloads (Debian root filesystem, node binary, runtime node_modules) live in $MLPIPE_IMAGE_CACHE
# (default ~/.cache/mlpipe/image), outside the clone: deploy/image/env.sh sets them up; image targets source it.
# Tagged <IMAGE>:<version of package.json> (what deploy/compose.yaml and deploy/kubernetes/ run) and <IMAGE>:latest.
IMAGE ?= localhost/mlpipe
IMAGE_VERSION := $(shell node -p "require('./package.json').version" 2>/dev/null)
IMAGE_APT := podman buildah skopeo umoci mmdebstrap runc uidmap fuse-overlayfs slirp4netns
.PHONY: image-deps image-base image image-test bench-image image-lock

image-deps:
	@missing=""; for p in $(IMAGE_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [[ -n "$$missing" ]]; then echo "== installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$missing; fi

image-base: image-deps
	bash deploy/image/base.sh

image: build image-base
	@source deploy/image/env.sh && ctx=$$(node --import tsx scripts/image-context.ts) && \
	  podman build --format docker -t $(IMAGE):$(IMAGE_VERSION) -t $(IMAGE):latest "$$ctx"; status=$$?; rm -rf "$$ctx"; exit $$status
	@source deploy/image/env.sh && podman image inspect $(IMAGE):$(IMAGE_VERSION) --format '$(IMAGE):$(IMAGE_VERSION) (and :latest): {{.Size}} bytes, user {{.Config.User}}'

image-test: build image-base
	npx mocha test/image.test.ts

bench-image: build image-base
	node --import tsx bench/image.ts $(ARGS)

# deploy/image/package-lock.json again after a change of the root lockfile or of deploy/image/package.json:
# seeded with the root lockfile, so every package keeps the version (and path) it has there.
image-lock:
	cp package-lock.json deploy/image/package-lock.json
	cd deploy/image && npm install --package-lock-only --ignore-scripts --no-audit --no-fund

# scikit-learn's scores on the splits test/accuracy.test.ts makes mlpipe score, then mlpipe beside them
# (ARGS=--compare: only mlpipe beside the committed reference, no Python).
accuracy-reference: install
	node --import tsx bench/accuracy/reference.ts $(ARGS)

clean:
	rm -rf dist .mlpipe-test-results.json .mlpipe-reliability.ndjson .mlpipe-reliability-results.json
	find artifacts -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
