#!/usr/bin/env bash
# Fails when the committed Go code in sdk/internal/modelpb differs from what
# the pinned generators produce from model.proto.
#
# It runs buf (pinned below; the protoc plugins are pinned in
# sdk/buf.gen.yaml) from the sdk directory with its own configuration, writes
# the generated code into a temporary directory, and compares. It changes
# nothing in the work tree. Needs only Go.
#
# Usage: sdk/internal/modelpb/check-generated.sh   (from any directory)
set -euo pipefail

BUF_VERSION=v1.75.0

pkg_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk_dir="$(cd "$pkg_dir/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$sdk_dir"
if ! go run "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION" generate --output "$tmp" >"$tmp.log" 2>&1; then
	cat "$tmp.log" >&2
	rm -f "$tmp.log"
	echo "check-generated: buf generate failed (see above)" >&2
	exit 2
fi
rm -f "$tmp.log"

generated="$tmp/internal/modelpb"
shopt -s nullglob
names=()
for f in "$pkg_dir"/*.pb.go "$generated"/*.pb.go; do
	names+=("$(basename "$f")")
done
status=0
for name in $(printf '%s\n' "${names[@]}" | sort -u); do
	committed="$pkg_dir/$name"
	fresh="$generated/$name"
	if [ ! -e "$fresh" ]; then
		echo "check-generated: sdk/internal/modelpb/$name is committed but no longer generated" >&2
		status=1
	elif [ ! -e "$committed" ]; then
		echo "check-generated: sdk/internal/modelpb/$name is generated but not committed" >&2
		status=1
	elif ! diff -u --label "committed/$name" --label "generated/$name" "$committed" "$fresh" >&2; then
		status=1
	fi
done
if [ "${#names[@]}" -eq 0 ]; then
	echo "check-generated: buf generated no Go files" >&2
	status=1
fi

if [ "$status" -ne 0 ]; then
	cat >&2 <<'EOF'

check-generated: the generated protobuf code in sdk/internal/modelpb is out of
date with model.proto or with the pinned generators. Regenerate it with

    make proto

(or: cd sdk && go run github.com/bufbuild/buf/cmd/buf@v1.75.0 generate)
and commit the result.
EOF
	exit 1
fi
echo "check-generated: sdk/internal/modelpb is up to date"
