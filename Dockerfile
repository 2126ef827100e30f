# Burrow gateway on the official Bun image, multi-stage, non-root.
# Not built in this project's CI: these machines have no Docker engine (see README).
FROM oven/bun:1.3 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; Bun runs the TypeScript source directly.
RUN bun install --production --ignore-scripts

FROM oven/bun:1.3-slim
WORKDIR /app
ENV NODE_ENV=production \
    BURROW_DATA_DIR=/data \
    PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["bun", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["bun", "src/cli.ts"]
CMD ["serve"]
