#!/usr/bin/env bash
# `buf breaking` of proto/ against the previous commit (HEAD~1). Adding files, messages, fields
# or RPCs passes; renaming, renumbering or removing them fails. Skipped only when there is
# nothing to compare with: no previous commit (first commit, shallow clone) or no proto/ in it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF="${BUF:-.venv/bin/buf}"

if ! previous="$(git rev-parse --verify --quiet --short 'HEAD~1^{commit}' 2>/dev/null)"; then
  echo "buf breaking: skipped (no previous commit to compare with)"
  exit 0
fi
if ! git cat-file -e 'HEAD~1:proto' 2>/dev/null; then
  echo "buf breaking: skipped (the previous commit $previous has no proto/)"
  exit 0
fi
"$BUF" breaking proto --against '.git#ref=HEAD~1,subdir=proto'
echo "buf breaking: no breaking change against $previous"
