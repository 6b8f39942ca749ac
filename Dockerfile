# syntax=docker/dockerfile:1
# The production image: docker build -t sms-channel-api .   (or docker compose up, see compose.yaml)
#
# The build stage runs scripts/build-production.sh (full install, build, dev dependencies pruned);
# CI runs the same script on a copy of the tree and starts the result exactly as this image does
# (.ci/production-install reads ENTRYPOINT, CMD and HEALTHCHECK below), so what the image does is
# tested even where no image can be built.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.npm sh scripts/build-production.sh

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# Read-only for the app's user: only data/ (the embedded database, if DATABASE_URL is unset) is its.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts ./scripts
RUN mkdir data && chown node:node data
USER node
EXPOSE 3000
# Liveness (no curl in slim images: node itself). A database outage must not restart us.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
# Exec form: node is PID 1 and gets SIGTERM itself (drain, finish jobs, exit 0).
# `docker compose run --rm app dist/src/cli.js org:create …` runs the operator CLI instead.
ENTRYPOINT ["node"]
CMD ["dist/src/main.js"]
