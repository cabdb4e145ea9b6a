# ModelGraph server image. Give it DATABASE_URL for a real deployment; without it the server
# runs the embedded PostgreSQL in /data (a volume), as `npm start` does on a laptop.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 MODELGRAPH_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
VOLUME /data
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node, not npm, as PID 1's child: SIGTERM reaches the server, which drains and exits 0.
# A 64 MiB young generation: the server allocates many short-lived objects per request, and
# the default one makes the garbage collector take a fifth of the CPU under load.
CMD ["node", "--max-semi-space-size=64", "dist/src/app/main.js"]
