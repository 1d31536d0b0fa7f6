#!/usr/bin/env bash
# make demo: train and package the penguins example, serve it on a free port, send it one single and
# one batch prediction with curl, print the answers, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."

MLPIPE=./bin/mlpipe
ARTIFACTS=${MLPIPE_ARTIFACTS:-artifacts}
LOG=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$LOG"
}
trap cleanup EXIT

echo "== 1. train and package examples/penguins (load → featurize → train → package)"
"$MLPIPE" run examples/penguins/pipeline.yaml --artifacts "$ARTIFACTS" | tee "$LOG/run.out"
REF=$(tail -n 1 "$LOG/run.out")
echo
echo "== 2. verify the bundle"
"$MLPIPE" bundles verify "$REF" --artifacts "$ARTIFACTS"
echo
echo "== 3. serve $REF on a free port"
"$MLPIPE" serve "$REF" --artifacts "$ARTIFACTS" --host 127.0.0.1 --port 0 --log-format pretty >"$LOG/serve.out" 2>"$LOG/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://[^ ]*' "$LOG/serve.out" 2>/dev/null || true)
  [[ -n "$URL" ]] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$LOG/serve.err" >&2; exit 1; fi
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "the server did not start" >&2; cat "$LOG/serve.err" >&2; exit 1; }
cat "$LOG/serve.err"
echo "listening on $URL"
echo
echo "== 4. one record: POST $URL/v1/models/penguins/predict"
RECORD='{"Island": "Biscoe", "Beak Length (mm)": 47.5, "Beak Depth (mm)": 15.0, "Flipper Length (mm)": 218, "Body Mass (g)": 4950, "Sex": "FEMALE"}'
echo "$RECORD"
curl -sS --fail-with-body -X POST "$URL/v1/models/penguins/predict" -H 'content-type: application/json' -d "$RECORD"
echo
echo
echo "== 5. a batch: POST $URL/predict/batch (an unknown island and a missing sex are handled as in training)"
BATCH='{"records": [
  {"Island": "Torgersen", "Beak Length (mm)": 39.1, "Beak Depth (mm)": 18.7, "Flipper Length (mm)": 181, "Body Mass (g)": 3750, "Sex": "MALE"},
  {"Island": "Dream", "Beak Length (mm)": 49.5, "Beak Depth (mm)": 19.0, "Flipper Length (mm)": 200, "Body Mass (g)": 3800, "Sex": null},
  {"Island": "Atlantis", "Beak Length (mm)": 46.1, "Beak Depth (mm)": 13.2, "Flipper Length (mm)": 211, "Body Mass (g)": 4500}
]}'
echo "$BATCH"
curl -sS --fail-with-body -X POST "$URL/predict/batch" -H 'content-type: application/json' -d "$BATCH"
echo
echo
echo "== 6. a bad record gets a 400 naming the field"
curl -sS -X POST "$URL/predict" -H 'content-type: application/json' -d '{"Island": "Biscoe", "Beak Length (mm)": "long"}'
echo
echo
echo "== 7. stop the server (SIGTERM drains in-flight requests, then exits)"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
cat "$LOG/serve.err" | tail -n 2
echo "demo done: bundle $REF is in $ARTIFACTS/"
