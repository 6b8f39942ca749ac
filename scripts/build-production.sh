#!/bin/sh
# The production build: what the Dockerfile's build stage runs, and what CI runs on a copy of the
# tree before starting the app from it exactly as the image does (.ci/production-install). A full
# install and the build, then every dev dependency pruned: what remains (package.json, dist/,
# node_modules/) is the image. It changes node_modules: run it in a copy, not in a checkout you
# test or develop in. --omit=optional too: typeorm names ts-node as an optional peer, and npm
# would otherwise keep ts-node and typescript in the production tree (no optional package of
# that tree is needed on Linux: pg-cloudflare is for Cloudflare Workers).
set -eu
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev --omit=optional --no-audit --no-fund
