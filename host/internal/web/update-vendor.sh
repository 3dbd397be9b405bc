#!/usr/bin/env bash
# Refreshes the browser libraries vendored under static/vendor/ from the npm
# registry at the versions given: npm pack into a temporary directory, copy
# the distributed files and the licences, and write a README.md for each.
# Run through `make web-assets`, which passes the pinned versions.
#
# usage: update-vendor.sh JSON_EDITOR_VERSION PICO_VERSION
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 JSON_EDITOR_VERSION PICO_VERSION" >&2
	exit 2
fi
json_editor_version=$1
pico_version=$2
vendor="$(cd "$(dirname "$0")" && pwd)/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PACKAGE VERSION: unpacks the package's tarball into $tmp/PACKAGE-dir
# and prints its directory.
fetch() {
	local pkg=$1 version=$2 dir
	dir="$tmp/$(echo "$pkg" | tr -c 'a-zA-Z0-9\n' '-')"
	mkdir -p "$dir"
	(cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null)
	tar -xzf "$dir"/*.tgz -C "$dir"
	echo "$dir/package"
}

# readme DIR PACKAGE VERSION LICENCE FILES...: writes DIR/README.md.
readme() {
	local dir=$1 pkg=$2 version=$3 licence=$4
	shift 4
	{
		echo "# $pkg $version"
		echo
		echo "Vendored from the npm package \`$pkg@$version\` by \`make web-assets\`"
		echo "(host/internal/web/update-vendor.sh); do not edit these files by hand."
		echo
		echo "- Package: \`$pkg\`"
		echo "- Version: $version"
		echo "- Licence: $licence (see the licence file beside this README)"
		echo "- Files copied from the package:"
		for f in "$@"; do echo "  - \`$f\`"; done
	} >"$dir/README.md"
}

je=$(fetch @json-editor/json-editor "$json_editor_version")
out="$vendor/json-editor"
rm -rf "$out" && mkdir -p "$out"
cp "$je/dist/jsoneditor.js" "$je/dist/jsoneditor.js.LICENSE.txt" "$out/"
cp "$je/LICENSE" "$out/LICENSE"
readme "$out" @json-editor/json-editor "$json_editor_version" \
	"$(node -p "require('$je/package.json').license")" \
	dist/jsoneditor.js dist/jsoneditor.js.LICENSE.txt LICENSE

pico=$(fetch @picocss/pico "$pico_version")
out="$vendor/pico"
rm -rf "$out" && mkdir -p "$out"
cp "$pico/css/pico.min.css" "$out/"
cp "$pico/LICENSE.md" "$out/LICENSE.md"
readme "$out" @picocss/pico "$pico_version" \
	"$(node -p "require('$pico/package.json').license")" \
	css/pico.min.css LICENSE.md

echo "vendored @json-editor/json-editor@$json_editor_version and @picocss/pico@$pico_version into $vendor"
