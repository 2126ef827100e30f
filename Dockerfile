# syntax=docker/dockerfile:1
# Burrow gateway on the official Bun image. Bun runs the TypeScript sources: no build step.
# Not built on this project's machines, which have no Docker engine (README, Docker); CI lints
# this file and checks what a supervisor relies on (test/deploy/dockerfile.test.ts).

# The Bun the test suite runs on: package-lock.json's `bun` (the lint test keeps them equal).
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies exactly as package-lock.json pins them: Bun reads the npm lockfile, and
# --frozen-lockfile refuses one that disagrees with package.json (CI runs the same check). No
# install scripts: ssh2's optional native crypto cannot load on Bun, bufferutil ships prebuilds.
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim
# tini is PID 1 and the gateway its only child: tini passes SIGTERM on, so the gateway drains,
# and reaps what a PID 1 must. The Bun image's own entrypoint is a shell script; npm is absent.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# MIMALLOC_*: Bun's allocator keeps the memory it frees for 10 s before giving it back to the OS,
# instead of giving it back at once and faulting it in again on the next requests: less CPU per
# request, more memory held while the load lasts (docs/DEPLOY.md, "Bun's allocator").
ENV NODE_ENV=production \
    BURROW_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080 \
    MIMALLOC_PURGE_DELAY=10000 \
    MIMALLOC_PURGE_HOLES=0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# The data dir holds the host key, the token secret and the admin token (0600 files, 0700 dir).
RUN mkdir -p /data && chown bun:bun /data && chmod 0700 /data
USER bun
VOLUME ["/data"]
# 8080: consumers and agents' WebSockets. 2222: stock `ssh -R`, served only with SSH_PORT=2222.
EXPOSE 8080 2222
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "bun", "src/cli.ts"]
CMD ["serve"]
