#!/usr/bin/env bash
# Vendor Swagger UI (npm package swagger-ui-dist, Apache-2.0) for the server's offline /docs page.
set -euo pipefail
VERSION="${1:-5.35.0}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/server/static/swagger-ui"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf "swagger-ui-dist-$VERSION.tgz")
mkdir -p "$DEST"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  cp "$TMP/package/$f" "$DEST/"
done
# source maps are not shipped: drop the references to them
sed -i 's#^//\# sourceMappingURL=.*$##; s#/\*\# sourceMappingURL=.*\*/##' "$DEST/swagger-ui-bundle.js" "$DEST/swagger-ui.css"
echo "swagger-ui-dist $VERSION" > "$DEST/VERSION"
echo "vendored Swagger UI $VERSION into $DEST"
