#!/usr/bin/env bash
# Checks that `npm ci` (what CI runs) accepts package.json + package-lock.json, without touching
# node_modules. The registry mirror these machines use lacks some platform packages of other operating
# systems; npm then leaves them out of the lock and `npm ci` refuses it ("Missing: … from lock file").
# The fix is an `overrides` pin to a version whose platform packages all exist (see package.json).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$root/package.json" "$root/package-lock.json" "$tmp/"
# Workspace manifests are part of the lock: copy them with their folders.
(cd "$root" && git ls-files -co --exclude-standard '*/package.json' '*/*/package.json' | grep -v node_modules) |
  while read -r manifest; do mkdir -p "$tmp/$(dirname "$manifest")"; cp "$root/$manifest" "$tmp/$manifest"; done
cd "$tmp"
if out="$(npm ci --dry-run --ignore-scripts 2>&1)"; then
  echo "ok: npm ci accepts the lockfile"
else
  echo "$out" | grep -E '^npm error (Missing|Invalid)|npm error code' >&2 || echo "$out" >&2
  exit 1
fi
