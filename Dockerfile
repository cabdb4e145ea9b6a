# ModelGraph server image (docs/operations.md, "Docker"). Give it DATABASE_URL for a real
# deployment (docker-compose.yml does, with PostgreSQL 15); without it the server runs the
# embedded PostgreSQL in /data (a volume), as `npm start` does on a laptop.
#
# Node: package.json `engines` is "^20.19.0 || ^22.13.0 || >=24.11.0" (what the locked
# dependencies need) and this image is Node 20, the line the server is built and tested on.
# @apollo/server's graphql-tools are pinned (package.json `overrides`) to the last releases that
# run on Node 20, and the OpenTelemetry packages are kept on their last lines that do (sdk-node
# 0.223, instrumentations 0.71/0.76). `npm run lint:docker` and test/install.test.ts check that
# this image agrees with `engines`.
ARG NODE_IMAGE=node:20-bookworm-slim

# Stage 1: every dependency, and the build.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY bench ./bench
# The browser apps (the dashboard), bundled by the build into dist/web.
COPY web ./web
RUN npm run build

# Stage 2: the runtime dependencies only, installed from the same lockfile.
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Stage 3: what runs. The server runs as the image's unprivileged `node` user (uid 1000), and
# its code is owned by root, read-only to it: a process that can write its own code is one
# exploit away from changing it.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 MODELGRAPH_DATA_DIR=/data
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The data directory (embedded PostgreSQL, the first ADMIN key's file) is the one place it writes.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 4000
# /readyz answers 200 once the database answers and the migrations are applied. The start
# period covers a first start: migrations, or the embedded PostgreSQL's initdb.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node, not npm, as the main process: SIGTERM reaches the server, which drains and exits 0.
# Run it with an init (`docker run --init`, `init: true` in compose) so that it is not PID 1.
# A 64 MiB young generation: the server allocates many short-lived objects per request, and
# the default one makes the garbage collector take a fifth of the CPU under load.
CMD ["node", "--max-semi-space-size=64", "dist/src/app/main.js"]
