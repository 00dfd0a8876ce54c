#!/usr/bin/env bash
# Compiles the published schemas (schema/*.json) with Ajv in strict mode,
# as a JavaScript consumer would, and validates the engine's recorded
# events (incident/testdata/replay/events.jsonl) against them. Ajv and
# ajv-formats are pinned by schema/ajv-check/package-lock.json and
# installed once with `npm ci` into .cache/ajv-check (again when the lock
# changes); Node.js and npm come from scripts/setup.sh.
#
#   scripts/ajv-check.sh [EVENTS.jsonl]...   (more events to validate)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=.cache/ajv-check
for t in node npm; do
	command -v "$t" >/dev/null || { echo "ajv-check: $t is required (scripts/setup.sh installs it)" >&2; exit 1; }
done
if ! cmp -s schema/ajv-check/package-lock.json "$dir/package-lock.json" || [ ! -d "$dir/node_modules/ajv" ]; then
	echo "ajv-check: installing Ajv (once)" >&2
	rm -rf "$dir"
	mkdir -p "$dir"
	cp schema/ajv-check/package.json schema/ajv-check/package-lock.json "$dir/"
	(cd "$dir" && npm ci --silent --no-audit --no-fund --ignore-scripts)
fi
events=(--events incident/testdata/replay/events.jsonl)
for f in "$@"; do
	events+=(--events "$f")
done
NODE_PATH="$dir/node_modules" node schema/ajv-check/check.js schema/incident-v1.json schema/incident-event-v1.json "${events[@]}"
