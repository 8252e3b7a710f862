#!/usr/bin/env bash
# The operations guide's "CI Workflow Tie-In" table, with the day2 tools.
#
#   GET /api/ready        deps reachable                 -> red (exit 1)
#   GET summary           model presence, fallback flags -> red + diagnostic dump
#   OPTIONS chat (CORS)   allow-list and headers         -> red, the defect named
#   legacy gate (opt-in)  FAIL_ON_LEGACY=true            -> red on the first legacy response
#
# Environment:
#   DAY2_URL              base URL of the edge (required)
#   DAY2_ORIGIN           an origin the chat API must allow (required)
#   DAY2_CHAT_PATH        preflight path (default /api/chat, the edge's route)
#   FAIL_ON_LEGACY        true turns the legacy gate on (read by legacy-sampler itself)
#   DAY2_LEGACY_SAMPLES   samples for the gate (default 10)
#   DAY2_SAMPLE_PATH      the path clients read, sampled by the gate (default /api/status/summary)
#   DAY2_OUT              where the records go (default day2-ci.jsonl, a CI artifact)
# Every check runs even when an earlier one failed; the exit code is the worst.
set -uo pipefail
url="${DAY2_URL:?set DAY2_URL to the edge base URL}"
origin="${DAY2_ORIGIN:?set DAY2_ORIGIN to an origin the chat API must allow}"
out="${DAY2_OUT:-day2-ci.jsonl}"
: >"$out"
worst=0
record() { # record NAME COMMAND...: run a check, keep its records, remember the worst exit
  local name=$1 code
  shift
  "$@" >>"$out"
  code=$?
  if [ "$code" -ne 0 ]; then
    echo "red: $name (exit $code)" >&2
    [ "$code" -gt "$worst" ] && worst=$code
  else
    echo "green: $name" >&2
  fi
  return "$code"
}

record ready status-probe --url "$url" ready
if ! record summary status-probe --url "$url" summary; then
  echo "--- diagnostic dump (summary records)" >&2
  grep '"check":"summary"' "$out" >&2
fi
record cors status-probe --url "$url" --chat-path "${DAY2_CHAT_PATH:-/api/chat}" --origin "$origin" cors
if [ "${FAIL_ON_LEGACY:-false}" = "true" ]; then
  record legacy-gate legacy-sampler --samples off -n "${DAY2_LEGACY_SAMPLES:-10}" \
    "$url${DAY2_SAMPLE_PATH:-/api/status/summary}"
else
  echo "skipped: legacy gate (FAIL_ON_LEGACY is not true)" >&2
fi
exit "$worst"
