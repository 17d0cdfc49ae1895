#!/bin/sh
# The build step of the image (Dockerfile stage "build"), also run by CI outside Docker: compile src/ to dist/.
set -eu
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
chmod +x dist/cli/*.js 2>/dev/null || true
