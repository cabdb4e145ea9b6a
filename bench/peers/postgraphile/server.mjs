// PostGraphile 5 serving the bench database, as ModelGraph's benchmark peer.
//
// Plain JavaScript on purpose: it runs on the Node 22 binary of this folder's node_modules and
// resolves postgraphile from here, apart from ModelGraph's own dependency tree and compiler.
// The amber preset is PostGraphile's recommended base; nothing is tuned beyond it except the
// pool size, which matches the other peers, and the index check below.
//
// Env: DATABASE_URL, PORT, HOST (default 127.0.0.1), DATABASE_POOL_SIZE (default 10).
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  process.stderr.write('DATABASE_URL is required\n');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 5678);
const host = process.env.HOST ?? '127.0.0.1';

const preset = {
  extends: [PostGraphileAmberPreset],
  // PostGraphile hides a backward relation unless a non-partial index leads with its foreign
  // key. model_alias(version_id) has a partial index (WHERE version_id IS NOT NULL), which
  // Postgres does use for `version_id = $1`; without this, "aliases pointing at a version"
  // would not be in the schema at all.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ['public'],
      poolConfig: { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: { port, host, graphqlPath: '/graphql', graphiql: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.once('error', (err) => {
  process.stderr.write(`PostGraphile peer failed to listen: ${err.stack ?? err}\n`);
  process.exit(1);
});

await serv.addTo(server);
// Build the schema now, so the first measured request does not pay for introspection.
await pgl.getSchema();
server.listen({ port, host }, () => {
  process.stdout.write(`PostGraphile ${process.version} serving http://${host}:${port}/graphql\n`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  Promise.resolve(pgl.release()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
