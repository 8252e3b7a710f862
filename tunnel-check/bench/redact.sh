#!/usr/bin/env bash
# Benchmark of the streaming filters on a large synthetic cloudflared log, each
# against a named reference run in the same session, alternating, several rounds:
#   redact     vs  sed -E 's/eyJ[A-Za-z0-9+/_=-]{37,}/[REDACTED]/g'  (shape only)
#   connector  vs  an awk one-liner counting distinct connIndex of registrations
# The references do less (sed: no context keys, no literals; awk: one question of
# the five), so a ratio near 1 means the whole check costs what a one-liner costs.
# Usage: tunnel-check/bench/redact.sh [MiB=64] [rounds=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-64}
rounds=${2:-5}
target=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p tunnel-check
bin="$target/release/tunnel-check"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/cloudflared.log"
# One block of realistic lines (a registration, a config update, an origin error,
# a token on a settings line), repeated to the requested size.
token='eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiNmZmNDJhZTItNzY1ZC00YWRmLThkYjctYWE4YjYxMTY4YjZhIiwicyI6IlpHRjVNaTFqWVc1aGNua3RjMlZqY21WMExXNWxkbVZ5TFhCeWFXNTBMVEE9In0='
{
  for i in 0 1 2 3; do
    echo "2026-11-27T10:00:01Z INF Registered tunnel connection connIndex=$i connection=4f1c2a9e-5b7d-4c3e-9a1f-2b3c4d5e6f70 event=0 ip=198.41.200.23 location=ams05 protocol=quic"
  done
  echo '2026-11-27T10:00:01Z INF Updated to new configuration config="{\"ingress\":[{\"hostname\":\"assistant.ledger-mind.org\",\"service\":\"http://nginx:80\"},{\"service\":\"http_status:404\"}]}" version=3'
  echo '2026-11-27T10:05:00Z ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 172.18.0.4:80: connect: connection refused" cfRay=8c1f2e3d4c5b6a79-AMS event=1 ingressRule=0 originService=http://nginx:80'
  echo "2026-11-27T10:00:00Z INF Settings: map[no-autoupdate:true token:$token]"
  echo '2026-11-27T10:00:00Z INF Starting metrics server on [::]:2000/metrics'
} > "$work/block"
block_bytes=$(wc -c < "$work/block")
copies=$(( size_mib * 1024 * 1024 / block_bytes + 1 ))
for _ in $(seq 1 64); do cat "$work/block"; done > "$work/block64"
for _ in $(seq 1 $(( copies / 64 + 1 ))); do cat "$work/block64"; done > "$log"
bytes=$(wc -c < "$log")

seconds() { # runs "$@" < $log > /dev/null and prints the wall time in seconds
  local start end
  start=$(date +%s%N)
  "$@" < "$log" > /dev/null || true # connector exits 1 on the origin errors it finds
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.6f\n", (e - s) / 1e9}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

bench() { # name, reference name, then the two commands separated by --
  local name=$1 ref_name=$2; shift 2
  local ours=() ref=()
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift
  ref=("$@")
  : > "$work/ours"; : > "$work/ref"
  for _ in $(seq 1 "$rounds"); do
    seconds "${ours[@]}" >> "$work/ours"
    seconds "${ref[@]}" >> "$work/ref"
  done
  local m_ours m_ref
  m_ours=$(median < "$work/ours"); m_ref=$(median < "$work/ref")
  awk -v n="$name" -v r="$ref_name" -v o="$m_ours" -v f="$m_ref" -v b="$bytes" 'BEGIN {
    printf "%-10s %8.3f s %7.1f MB/s | %-8s %8.3f s %7.1f MB/s | ratio %.2f\n", n, o, b / o / 1e6, r, f, b / f / 1e6, o / f
  }'
}

echo "input: $bytes bytes, $rounds rounds alternating, medians (ratio = ours / reference)"
bench redact "sed" "$bin" redact -- sed -E 's/eyJ[A-Za-z0-9+/_=-]{37,}/[REDACTED]/g'
bench connector "awk" "$bin" connector -- \
  awk '/Registered tunnel connection/ {for (i = 1; i <= NF; i++) if ($i ~ /^connIndex=/) seen[$i] = 1} END {print length(seen)}'
