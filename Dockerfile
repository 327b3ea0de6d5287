# syntax=docker/dockerfile:1
# peaqOS Machine Markets orchestrator: multi-stage image, production dependencies only, non-root.
#   docker build -t peaqos-orchestrator .
#   docker run -p 3000:3000 -v peaqos-data:/data -e PEAQOS_AGENT_PAIRING_SESSION_SECRET=... peaqos-orchestrator
# Not built in this repository's CI (no Docker engine there); see README "Event stores".

ARG NODE_VERSION=20

# ---- build: compile TypeScript and the native SQLite binding, then drop dev dependencies ----------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: node + dist + production node_modules, as the unprivileged `node` user ---------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PEAQOS_HOST=0.0.0.0 \
    PEAQOS_PORT=3000 \
    PEAQOS_SQLITE_PATH=/data/peaqos.db \
    PEAQOS_READ_MODEL_PATH=/data/read-model.db
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The shipped catalogue (§2.5), found next to package.json; PEAQOS_CATALOG_PATH replaces it.
COPY --chown=node:node catalog/catalog.json ./catalog/catalog.json
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PEAQOS_PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `node` directly (not npm): signals reach the process, which shuts down gracefully.
# A larger young generation: replays and rebuilds allocate one short-lived object per event.
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
