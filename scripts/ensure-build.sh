#!/bin/sh
# Runs before `npm start`, `npm run cli` and `npm run sms:simulate`. In a full
# install (the compiler is there) it builds dist/ when dist/ is missing or older than a source,
# so `npm ci && npm start` on a fresh clone builds and an edited source never runs stale. In a
# production install (npm ci --omit=dev: no compiler) dist/ runs as it was built.
set -eu
cd "$(dirname "$0")/.."
if [ -x node_modules/.bin/nest ]; then
  if [ ! -f dist/src/main.js ] ||
    [ -n "$(find src migrations package.json package-lock.json tsconfig.json tsconfig.build.json nest-cli.json -newer dist/src/main.js -print -quit)" ]; then
    npm run build >&2
  fi
elif [ ! -f dist/src/main.js ]; then
  echo "dist/ is not built and this install has no dev dependencies to build it: run npm ci && npm run build" >&2
  exit 1
fi
