#!/usr/bin/env bash
# The operations guide's "manual approach" to classifying volumes (a PowerShell
# loop), re-done in bash as the benchmark's reference: list every volume, run one
# `docker inspect` per container (running or not) for its volume mounts, and print
# the set difference, i.e. the volumes no container mounts, one per line.
set -euo pipefail
all_volumes=$(docker volume ls -q)
in_use=$(
  for cid in $(docker ps -aq); do
    # A container removed meanwhile (someone else's) is simply skipped.
    docker inspect "$cid" --format '{{range .Mounts}}{{if eq .Type "volume"}}{{println .Name}}{{end}}{{end}}' || true
  done | sed '/^$/d' | sort -u
)
comm -23 <(printf '%s\n' "$all_volumes" | sed '/^$/d' | sort -u) <(printf '%s\n' "$in_use")
