/**
 * The practical limit of the nested read: one hand-written SQL statement over `pg` builds the
 * whole response, JSON included, and a bare node:http server returns Postgres's text as is.
 * No GraphQL, no auth, no ORM: what is left is HTTP, JSON parsing of the request and one round
 * trip. Run as its own process, like every other peer, so each has an event loop to itself.
 *
 * Env: DATABASE_URL, PORT, HOST (default 127.0.0.1), DATABASE_POOL_SIZE (default 10).
 */
import http from 'node:http';
import { Pool } from 'pg';

/**
 * ModelGraph's global id, `base64url("Type:uuid")`, computed in SQL. Postgres's base64 breaks
 * lines every 76 characters; "ModelVersion:<uuid>" is 49 bytes, 68 characters, so it never does.
 */
const gid = (type: string, column: string) =>
  `rtrim(translate(encode(convert_to('${type}:' || ${column}, 'UTF8'), 'base64'), '+/', '-_'), '=')`;

/**
 * The same answer as ModelGraph's Nested query, field for field and in the same order: models
 * by updated_at DESC (active ones, as ModelGraph's default filter), the 10 highest versions of
 * each, aliases by name. Each LATERAL walks the same indexes ModelGraph's loaders use.
 */
export const NESTED_SQL = `
SELECT json_build_object('data', json_build_object('project',
         CASE WHEN p.id IS NULL THEN NULL
              ELSE json_build_object('models', json_build_object('nodes', ms.nodes)) END))::text AS body
  FROM (SELECT $1::text AS slug) arg
  LEFT JOIN project p ON p.slug = arg.slug
  LEFT JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object(
             'id', ${gid('Model', 'm.id')},
             'name', m.name,
             'tags', m.tags,
             'aliases', ma.list,
             'versions', json_build_object('nodes', vs.list)
           ) ORDER BY m.updated_at DESC, m.id DESC), '[]') AS nodes
      FROM (SELECT * FROM model
             WHERE project_id = p.id AND NOT archived
             ORDER BY updated_at DESC, id DESC LIMIT 50) m
      CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(json_build_object('name', a.name, 'version', json_build_object('number', av.number))
                                 ORDER BY a.name), '[]') AS list
          FROM model_alias a JOIN model_version av ON av.id = a.version_id
         WHERE a.model_id = m.id
      ) ma
      CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(json_build_object(
                 'id', ${gid('ModelVersion', 'v.id')},
                 'number', v.number,
                 'tags', v.tags,
                 'aliases', (SELECT coalesce(json_agg(va.name ORDER BY va.name), '[]')
                               FROM model_alias va WHERE va.version_id = v.id),
                 'baseVersion', CASE WHEN b.id IS NULL THEN NULL
                                     ELSE json_build_object('id', ${gid('ModelVersion', 'b.id')}, 'number', b.number) END
               ) ORDER BY v.number DESC), '[]') AS list
          FROM (SELECT * FROM model_version WHERE model_id = m.id ORDER BY number DESC LIMIT 10) v
          LEFT JOIN model_version b ON b.id = v.base_version_id
      ) vs
  ) ms ON true`;

const MAX_BODY = 64 * 1024;

function main() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is required\n');
    process.exit(2);
  }
  const pool = new Pool({ connectionString: url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
  const send = (res: http.ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, '{"errors":[{"message":"POST /graphql"}]}');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      let slug: unknown;
      try {
        slug = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.variables?.slug;
      } catch {
        return send(res, 400, '{"errors":[{"message":"body is not JSON"}]}');
      }
      if (typeof slug !== 'string') return send(res, 400, '{"errors":[{"message":"variables.slug is required"}]}');
      try {
        // A named statement is parsed and planned once per connection, as a tuned service would.
        const { rows } = await pool.query<{ body: string }>({ name: 'nested', text: NESTED_SQL, values: [slug] });
        send(res, 200, rows[0].body);
      } catch (err) {
        process.stderr.write(`query failed: ${(err as Error).message}\n`);
        send(res, 500, '{"errors":[{"message":"query failed"}]}');
      }
    });
  });

  const port = Number(process.env.PORT ?? 0);
  const host = process.env.HOST ?? '127.0.0.1';
  server.listen(port, host, () => {
    process.stdout.write(`SQL peer serving http://${host}:${(server.address() as { port: number }).port}/graphql\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();
