#!/usr/bin/env bash
# The operations guide's "CI Workflow Tie-In" table, with the day2 tools.
#
#   GET /api/ready        deps reachable                 -> red (exit 1)
#   GET summary           model presence, fallback flags -> red + diagnostic dump
#   OPTIONS chat (CORS)   allow-list and headers         -> red, the defect named
#   legacy gate (opt-in)  FAIL_ON_LEGACY on              -> red on the first legacy response
#
# Environment:
#   DAY2_URL              base URL of the edge (required)
#   DAY2_ORIGIN           an origin the chat API must allow (required)
#   DAY2_CHAT_PATH        preflight path (default /api/chat, the edge's route)
#   FAIL_ON_LEGACY        true, 1, yes or on (any case) turns the legacy gate on; false,
#                         0, no, off or empty (GitHub's unset variable) leave it off;
#                         anything else is exit 2. legacy-sampler reads it the same way
#                         (legacy_sampler::parse_fail_on_legacy).
#   DAY2_LEGACY_SAMPLES   samples for the gate (default 10)
#   DAY2_SAMPLE_PATH      the path clients read, sampled by the gate (default /api/status/summary)
#   DAY2_OUT              where the records go (default day2-ci.jsonl, a CI artifact)
#   GITHUB_STEP_SUMMARY   set by GitHub Actions: a table of the rows is appended to it
#
# Every check runs even when an earlier one failed; the exit code is the worst. A red
# line names each failing record's reason and quotes the record.
set -uo pipefail
url="${DAY2_URL:?set DAY2_URL to the edge base URL}"
origin="${DAY2_ORIGIN:?set DAY2_ORIGIN to an origin the chat API must allow}"
out="${DAY2_OUT:-day2-ci.jsonl}"

case "${FAIL_ON_LEGACY:-}" in
  [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss] | [Oo][Nn]) gate=on ;;
  "" | [Ff][Aa][Ll][Ss][Ee] | 0 | [Nn][Oo] | [Oo][Ff][Ff]) gate=off ;;
  *)
    echo "red: FAIL_ON_LEGACY=\"$FAIL_ON_LEGACY\" is neither on (true, 1, yes, on) nor off (false, 0, no, off, empty)" >&2
    exit 2
    ;;
esac

: >"$out"
worst=0
rows=()
row() { # row NAME RESULT REASON TARGET: one line of the step summary table
  rows+=("| $1 | $2 | $3 | $4 |")
}
field() { # field NAME RECORD: the envelope's string field (the first; records are compact JSON)
  grep -o "\"$1\":\"[^\"]*\"" <<<"$2" | head -n 1 | sed 's/^"[^"]*":"\(.*\)"$/\1/'
}
record() { # record NAME COMMAND...: run a check, keep its records, remember the worst exit
  local name=$1 code records failing line reason target
  shift
  records=$("$@")
  code=$?
  [ -n "$records" ] && printf '%s\n' "$records" >>"$out"
  if [ "$code" -eq 0 ]; then
    echo "green: $name" >&2
    row "$name" green "" "$url"
    return 0
  fi
  [ "$code" -gt "$worst" ] && worst=$code
  failing=$(grep -E '"verdict":"(fail|error)"' <<<"$records")
  if [ -z "$failing" ]; then
    echo "red: $name (exit $code): no failing record (usage or input error: see the message above)" >&2
    row "$name" "red (exit $code)" "" "$url"
    return "$code"
  fi
  while IFS= read -r line; do
    reason=$(field reason "$line")
    target=$(field target "$line")
    echo "red: $name (exit $code): $reason: $line" >&2
    row "$name" "red (exit $code)" "$reason" "$target"
  done <<<"$failing"
  return "$code"
}

record ready status-probe --url "$url" ready
if ! record summary status-probe --url "$url" summary; then
  echo "--- diagnostic dump (summary records)" >&2
  grep '"check":"summary"' "$out" >&2
fi
record cors status-probe --url "$url" --chat-path "${DAY2_CHAT_PATH:-/api/chat}" --origin "$origin" cors
if [ "$gate" = on ]; then
  record legacy-gate legacy-sampler --samples off -n "${DAY2_LEGACY_SAMPLES:-10}" \
    "$url${DAY2_SAMPLE_PATH:-/api/status/summary}"
else
  echo "skipped: legacy gate (FAIL_ON_LEGACY is off)" >&2
  row legacy-gate skipped "FAIL_ON_LEGACY is off" ""
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### day2 status checks: $url"
    echo
    echo "| check | result | reason | target |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Records: \`$out\`."
  } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$worst"
