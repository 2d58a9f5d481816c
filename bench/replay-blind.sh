#!/usr/bin/env bash
# Each blind set replayed at the commit of its first run, with only the library cases that existed then (the sets
# scored before it): what the resemblance step would have added to that first run. Prints one line per set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'for w in "$work"/wt-*; do git -C "$root" worktree remove --force "$w" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
L="$root/knowledge/cases"
replay() { # commit set training-sets...
	local commit=$1 set=$2; shift 2
	local wt="$work/wt-$commit" train=()
	git -C "$root" worktree add --detach --force "$wt" "$commit" >/dev/null 2>&1
	ln -s "$root/node_modules" "$wt/node_modules"
	cp "$root/src/core/diagnose/resemble.ts" "$root/src/core/diagnose/case-index.ts" "$wt/src/core/diagnose/"
	cp "$root/bench/replay.mjs" "$wt/replay.mjs"
	# resemble.ts weighs error lines by the one error-word list, exported since.
	sed -i 's/^const ERRORISH =/export const ERRORISH =/' "$wt/src/core/diagnose/unmatched.ts"
	for t in "$@"; do train+=("$L/$t.jsonl"); done
	(cd "$wt" && TRAIN="$(IFS=,; echo "${train[*]}")" "$root/node_modules/.bin/tsx" replay.mjs "$L/$set.jsonl")
}
replay a7b31f7 blind-2026-12 public-dev public-dev2
replay a688e1b blind-c public-dev public-dev2 blind-2026-12
replay f2c4fa7 blind-d public-dev public-dev2 blind-2026-12 blind-c
