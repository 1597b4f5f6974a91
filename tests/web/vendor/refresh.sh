#!/usr/bin/env bash
# Refresh the vendored axe-core from the npm registry: ./refresh.sh [version]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-$(npm view axe-core version)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@${version}" >/dev/null && tar xzf axe-core-*.tgz)
cp "$work/package/axe.min.js" "$here/axe.min.js"
cp "$work/package/LICENSE" "$here/axe-core.LICENSE"
sum="$(sha256sum "$here/axe.min.js" | cut -d' ' -f1)"
sed -i -E "s/\| [0-9]+\.[0-9]+\.[0-9]+ \| MPL-2.0/| ${version} | MPL-2.0/; s/\`[0-9a-f]{64}\`/\`${sum}\`/" "$here/VENDORED.md"
echo "axe-core ${version}: ${sum}"
