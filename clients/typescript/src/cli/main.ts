import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createModelGraphClient, type ModelGraphClient } from '../client';
import { ModelGraphError } from '../errors';
import {
  AliasHistoryDocument, CompleteEvaluationDocument, CreateApiKeyDocument, CreateEvaluationDocument, CreateModelDocument,
  CreateModelVersionDocument, CreateProjectDocument, ModelAliasesDocument, ModelDocument, ModelVersionDocument, ProjectsDocument, RecordMetricsDocument,
  SetModelAliasDocument, type AliasFieldsFragment, type EvalMetricInput, type MetricStreamFilter, type ModelKind, type Role, type TagInput,
} from '../generated/graphql';
import { EXIT, UsageError, exitCodeOf, print, reportError, table } from './output';
import { MAX_BATCH, batchKey, readPushFile } from './push';

interface Globals { url: string; apiKey?: string; json: boolean }

const DEFAULT_URL = 'http://localhost:4000/graphql';

const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
  return n;
};
/** A version number given as an argument (commander checks options; arguments are checked here). */
const versionNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`<version> must be a version number (an integer from 1), not ${JSON.stringify(v)}`);
  return n;
};
const tag = (v: string, prev: TagInput[] = []) => {
  const at = v.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('a tag is key=value.');
  return [...prev, { key: v.slice(0, at), value: v.slice(at + 1) }];
};
const many = (v: string, prev: string[] = []) => [...prev, v];

function globalsOf(cmd: Command): Globals {
  const o = cmd.optsWithGlobals() as Globals;
  return { url: o.url, apiKey: o.apiKey, json: Boolean(o.json) };
}

function clientOf(g: Globals): ModelGraphClient {
  return createModelGraphClient({ url: g.url, apiKey: g.apiKey });
}

const noModel = (projectSlug: string, name: string) => new ModelGraphError(`project "${projectSlug}" has no model "${name}"`, 'NOT_FOUND');

const aliasTable = (aliases: AliasFieldsFragment[]) =>
  table([['ALIAS', 'VERSION', 'REVISION', 'UPDATED', 'BY'], ...aliases.map((a) => [a.name, a.version.number, a.revision, a.updatedAt, a.updatedBy])]);

/** The model's id, or NOT_FOUND (exit 4). */
async function modelOf(client: ModelGraphClient, projectSlug: string, name: string) {
  const data = await client.request(ModelDocument, { projectSlug, name });
  if (!data.project) throw new ModelGraphError(`no project "${projectSlug}"`, 'NOT_FOUND');
  if (!data.project.model) throw noModel(projectSlug, name);
  return data.project.model;
}

/** The id of a version given as --model and --version, or as --version-id. */
async function versionIdOf(client: ModelGraphClient, projectSlug: string, o: { model?: string; version?: number; versionId?: string }) {
  if (o.versionId) return o.versionId;
  if (o.model === undefined && o.version === undefined) return null;
  if (o.model === undefined || o.version === undefined) throw new UsageError('give --model and --model-version together (or --version-id)');
  const data = await client.request(ModelVersionDocument, { projectSlug, name: o.model, number: o.version });
  const version = data.project?.model?.version;
  if (!version) throw new ModelGraphError(`no version ${o.version} of model "${o.model}" in "${projectSlug}"`, 'NOT_FOUND');
  return version.id;
}

const projectOption = () => new Option('-p, --project <slug>', 'the project').env('MODELGRAPH_PROJECT').makeOptionMandatory();

export function program(): Command {
  const root = new Command('modelgraph')
    .description('ModelGraph from the command line: projects, keys, models, versions, aliases, evaluations and live metrics.')
    .addOption(new Option('--url <url>', 'GraphQL endpoint').env('MODELGRAPH_URL').default(DEFAULT_URL))
    .addOption(new Option('--api-key <key>', 'API key secret').env('MODELGRAPH_API_KEY'))
    .version((JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version)
    .option('--json', 'print results as JSON (one object, or one per line for streams) and errors as JSON on stderr')
    .showHelpAfterError()
    .addHelpText('after', `
Exit codes: 0 ok; 1 server error; 2 usage (bad arguments or file, or BAD_USER_INPUT);
3 authentication or permission; 4 not found; 5 server unreachable or connection lost.`);

  // ------------------------------------------------------------ projects
  const project = root.command('project').description('create and list projects');
  project.command('create <slug>').description('create a project (needs an EDITOR or ADMIN key of no single project)')
    .option('--name <name>', 'display name (default: the slug)')
    .option('--description <text>', 'what the project is for')
    .action(async (slug: string, o: { name?: string; description?: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const data = await clientOf(g).request(CreateProjectDocument, { input: { slug, name: o.name ?? slug, description: o.description } });
      const p = data.createProject.project;
      print(g.json, p, () => `created project ${p.slug} (${p.id})`);
    });
  project.command('list').description('the projects this key can see')
    .option('--first <n>', 'at most this many (1-100)', int('--first', 1, 100), 100)
    .action(async (o: { first: number }, cmd: Command) => {
      const g = globalsOf(cmd);
      const nodes = (await clientOf(g).request(ProjectsDocument, { first: o.first })).projects.nodes;
      print(g.json, nodes, () => table([['SLUG', 'NAME', 'CREATED'], ...nodes.map((p) => [p.slug, p.name, p.createdAt])]));
    });

  // ------------------------------------------------------------ keys
  root.command('key').description('API keys')
    .command('create <name>').description('create an API key; prints its secret once (needs ADMIN)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(['VIEWER', 'EDITOR', 'ADMIN']).makeOptionMandatory())
    .option('-p, --project <slug>', 'limit the key to one project (default: every project)')
    .action(async (name: string, o: { role: Role; project?: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const data = await clientOf(g).request(CreateApiKeyDocument, { input: { name, role: o.role, projectSlug: o.project ?? null } });
      const { apiKey, secret } = data.createApiKey;
      print(g.json, { ...apiKey, secret }, () => `created ${apiKey.role} key ${apiKey.name} (${apiKey.project?.slug ?? 'every project'})\n${secret}`);
    });

  // ------------------------------------------------------------ models and versions
  const model = root.command('model').description('models');
  model.command('create <name>').description('register a model (needs EDITOR)')
    .addOption(projectOption())
    .addOption(new Option('--kind <kind>', 'where it comes from').choices(['INTERNAL', 'OPEN_WEIGHTS', 'PROPRIETARY_API']).default('INTERNAL'))
    .option('--task <task>', 'e.g. classification')
    .option('--description <text>', 'what it is')
    .option('--license <license>', 'e.g. apache-2.0')
    .option('--tag <key=value>', 'a tag (repeatable)', tag)
    .action(async (name: string, o: { project: string; kind: ModelKind; task?: string; description?: string; license?: string; tag?: TagInput[] }, cmd: Command) => {
      const g = globalsOf(cmd);
      const data = await clientOf(g).request(CreateModelDocument, {
        input: { projectSlug: o.project, name, kind: o.kind, task: o.task, description: o.description, license: o.license, tags: o.tag },
      });
      const m = data.createModel.model;
      print(g.json, m, () => `created model ${m.name} (${m.id})`);
    });
  model.command('show <name>').description('a model with its latest version and aliases')
    .addOption(projectOption())
    .action(async (name: string, o: { project: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const m = await modelOf(clientOf(g), o.project, name);
      print(g.json, m, () => [
        `${m.name} (${m.kind}${m.task ? `, ${m.task}` : ''})  ${m.id}`,
        `latest version: ${m.latestVersion ? m.latestVersion.number : 'none'}`,
        m.aliases.length ? aliasTable(m.aliases) : 'no aliases',
      ].join('\n'));
    });

  root.command('version').description('model versions')
    .command('create <model>').description('register a new version of a model; the server numbers it (needs EDITOR)')
    .addOption(projectOption())
    .option('--uri <uri>', 'where the artifact is (s3://..., file://...)')
    .option('--digest <digest>', 'the artifact\'s digest')
    .option('--format <format>', 'the artifact\'s format')
    .option('--provider <provider>', 'for an external API model: its provider (with --external-model-id)')
    .option('--external-model-id <id>', 'for an external API model: the provider\'s model id')
    .option('--framework <framework>', 'e.g. pytorch')
    .option('--description <text>', 'what changed')
    .option('--tag <key=value>', 'a tag (repeatable)', tag)
    .option('--idempotency-key <key>', 'a retry with the same key returns the first version')
    .action(async (modelName: string, o: {
      project: string; uri?: string; digest?: string; format?: string; provider?: string; externalModelId?: string;
      framework?: string; description?: string; tag?: TagInput[]; idempotencyKey?: string;
    }, cmd: Command) => {
      const g = globalsOf(cmd);
      if (!o.uri === !o.provider) throw new UsageError('give either --uri (an artifact) or --provider with --external-model-id (an external API)');
      if (o.provider && !o.externalModelId) throw new UsageError('--provider needs --external-model-id');
      const client = clientOf(g);
      const m = await modelOf(client, o.project, modelName);
      const data = await client.request(CreateModelVersionDocument, {
        input: {
          modelId: m.id,
          artifact: o.uri ? { uri: o.uri, digest: o.digest, format: o.format } : undefined,
          externalApi: o.provider ? { provider: o.provider, modelId: o.externalModelId! } : undefined,
          framework: o.framework, description: o.description, tags: o.tag, idempotencyKey: o.idempotencyKey,
        },
      });
      const v = data.createModelVersion.modelVersion;
      print(g.json, v, () => `created version ${v.number} of ${modelName} (${v.id})`);
    });

  // ------------------------------------------------------------ aliases
  const alias = root.command('alias').description('aliases (e.g. production) and their history');
  alias.command('set <model> <alias> <version>').description('point an alias at a version number (needs EDITOR; promotion policies apply)')
    .addOption(projectOption())
    .option('--reason <text>', 'why, kept in the history')
    .option('--expected-revision <n>', 'fail with CONFLICT unless the alias is at this revision', int('--expected-revision', 0))
    .action(async (modelName: string, name: string, version: string, o: { project: string; reason?: string; expectedRevision?: number }, cmd: Command) => {
      const g = globalsOf(cmd);
      const number = versionNumber(version);
      const client = clientOf(g);
      const m = await modelOf(client, o.project, modelName);
      const data = await client.request(SetModelAliasDocument, {
        input: { modelId: m.id, alias: name, versionNumber: number, reason: o.reason, expectedRevision: o.expectedRevision },
      });
      const a = data.setModelAlias.alias;
      print(g.json, a, () => `${modelName}@${a.name} -> version ${a.version.number} (revision ${a.revision})`);
    });
  alias.command('show <model> [alias]').description('the model\'s aliases, or one')
    .addOption(projectOption())
    .action(async (modelName: string, name: string | undefined, o: { project: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const data = await clientOf(g).request(ModelAliasesDocument, { projectSlug: o.project, name: modelName });
      if (!data.project?.model) throw noModel(o.project, modelName);
      let aliases = data.project.model.aliases;
      if (name !== undefined) {
        aliases = aliases.filter((a) => a.name === name);
        if (!aliases.length) throw new ModelGraphError(`model "${modelName}" has no alias "${name}"`, 'NOT_FOUND');
      }
      print(g.json, name !== undefined ? aliases[0] : aliases, () => aliasTable(aliases));
    });
  alias.command('history <model> [alias]').description('every move of the model\'s aliases (or of one), newest first')
    .addOption(projectOption())
    .option('--first <n>', 'at most this many (1-100)', int('--first', 1, 100), 20)
    .action(async (modelName: string, name: string | undefined, o: { project: string; first: number }, cmd: Command) => {
      const g = globalsOf(cmd);
      const data = await clientOf(g).request(AliasHistoryDocument, { projectSlug: o.project, name: modelName, alias: name ?? null, first: o.first });
      if (!data.project?.model) throw noModel(o.project, modelName);
      const events = data.project.model.aliasHistory.nodes;
      print(g.json, events, () => table([['AT', 'ALIAS', 'FROM', 'TO', 'BY', 'REASON'],
        ...events.map((e) => [e.at, e.alias, e.fromVersion?.number, e.toVersion?.number, e.actor, e.reason])]));
    });

  // ------------------------------------------------------------ evaluations
  root.command('eval').description('evaluations')
    .command('log <model> <version> <file>').description('log an evaluation\'s metrics from a JSON file and complete it (needs EDITOR)')
    .addOption(projectOption())
    .option('--name <name>', 'the evaluation\'s name (default: the file\'s "name")')
    .option('--dataset-version-id <id>', 'the dataset version it was evaluated on')
    .option('--running', 'leave the evaluation RUNNING instead of completing it')
    .addHelpText('after', `
The file: {"name": "nightly", "evaluator": "...", "params": {...}, "metrics": [{"name": "accuracy", "value": 0.91, "slice": "en", "higherIsBetter": true}]}
or with metrics as a map: {"metrics": {"accuracy": 0.91, "loss": 0.2}}. A rerun with the same file adds nothing (idempotency key from the file).`)
    .action(async (modelName: string, version: string, file: string, o: { project: string; name?: string; datasetVersionId?: string; running?: boolean }, cmd: Command) => {
      const g = globalsOf(cmd);
      const number = versionNumber(version);
      let bytes: Buffer;
      let doc: { name?: unknown; evaluator?: unknown; params?: unknown; metrics?: unknown };
      try {
        bytes = readFileSync(file);
        doc = JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${file}: must hold a JSON object`);
      const metrics: EvalMetricInput[] = Array.isArray(doc.metrics)
        ? (doc.metrics as EvalMetricInput[])
        : typeof doc.metrics === 'object' && doc.metrics !== null
          ? Object.entries(doc.metrics).map(([name, value]) => ({ name, value: value as number }))
          : [];
      if (!metrics.length) throw new UsageError(`${file}: "metrics" must be a non-empty list or map`);
      const name = o.name ?? (typeof doc.name === 'string' ? doc.name : undefined);
      if (!name) throw new UsageError(`give --name or a "name" in ${file}`);
      const client = clientOf(g);
      const versionId = await versionIdOf(client, o.project, { model: modelName, version: number });
      const created = await client.request(CreateEvaluationDocument, {
        input: {
          modelVersionId: versionId!, datasetVersionId: o.datasetVersionId, name, metrics,
          evaluator: typeof doc.evaluator === 'string' ? doc.evaluator : undefined,
          params: typeof doc.params === 'object' && doc.params !== null ? (doc.params as Record<string, unknown>) : undefined,
          idempotencyKey: `modelgraph-cli:eval:v1:${createHash('sha256').update(bytes).update('\0').update(name).digest('hex').slice(0, 40)}`,
        },
      });
      let evaluation = created.createEvaluation.evaluation;
      if (!o.running && evaluation.status === 'RUNNING') {
        evaluation = (await client.request(CompleteEvaluationDocument, { input: { evaluationId: evaluation.id, status: 'COMPLETED' } })).completeEvaluation.evaluation;
      }
      print(g.json, evaluation, () => `evaluation ${evaluation.name} (${evaluation.id}) ${evaluation.status}: ` +
        evaluation.metrics.map((m) => `${m.name}${m.slice ? `[${m.slice}]` : ''}=${m.value}`).join(' '));
    });

  // ------------------------------------------------------------ metrics
  const metrics = root.command('metrics').description('live metrics: push points from files, tail a stream');
  metrics.command('push <file>').description('push metric points from a CSV or JSON-lines file, in batches; a rerun stores nothing twice (needs EDITOR)')
    .addOption(projectOption())
    .addOption(new Option('--format <format>', 'the file\'s format (default: from its extension)').choices(['csv', 'jsonl']))
    .option('--batch-size <n>', `points per call (1-${MAX_BATCH})`, int('--batch-size', 1, MAX_BATCH), 1000)
    .option('--model <name>', 'with --model-version: the version points without a modelVersionId belong to')
    .option('--model-version <n>', 'with --model: the version\'s number', int('--model-version', 1))
    .option('--version-id <id>', 'the version points without a modelVersionId belong to')
    .option('--stop-after <n>', 'stop after this many batches (to push a file in parts; a later run sends the rest)', int('--stop-after', 1))
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'no progress bar (default when stderr is not a terminal)')
    .addHelpText('after', `
CSV: a header row with name and value, and optionally timestamp, modelVersionId and label.<key> columns.
JSON lines: one object per line: {"name": "latency_ms", "value": 12.5, "timestamp": "...", "labels": {"region": "eu"}}.
Each batch's idempotency key comes from the file's content, the options that shape the points and the batch
size, so rerun an interrupted push with the same file and options: stored batches are skipped, not written twice.`)
    .action(async (file: string, o: {
      project: string; format?: string; batchSize: number; model?: string; modelVersion?: number; versionId?: string; stopAfter?: number; progress?: boolean;
    }, cmd: Command) => {
      const g = globalsOf(cmd);
      const client = clientOf(g);
      // The file first: a bad file is a usage error whatever the server says.
      const { hash, points } = readPushFile(file, o.format);
      const versionId = await versionIdOf(client, o.project, { model: o.model, version: o.modelVersion, versionId: o.versionId });
      if (versionId) for (const p of points) p.modelVersionId ??= versionId;
      const batches = Math.ceil(points.length / o.batchSize);
      const last = Math.min(batches, o.stopAfter ?? batches);
      // On a terminal unless --no-progress or --json; elsewhere (a CI log) only with --progress.
      const bar = o.progress === true || (o.progress === undefined && !g.json && process.stderr.isTTY)
        ? new SingleBar({
          format: 'pushing [{bar}] {percentage}% | {value}/{total} points | batch {batch}/{batches}', hideCursor: true, noTTYOutput: o.progress === true,
        }, Presets.shades_classic)
        : null;
      bar?.start(points.length, 0, { batch: 0, batches });
      const sum = { points: points.length, batches, sent: 0, written: { batches: 0, points: 0 }, duplicate: { batches: 0, points: 0 }, complete: last === batches, file: hash };
      try {
        for (let i = 0; i < last; i++) {
          const batch = points.slice(i * o.batchSize, (i + 1) * o.batchSize);
          const { recordMetrics: r } = await client.request(RecordMetricsDocument, {
            input: { projectSlug: o.project, points: batch, idempotencyKey: batchKey(hash, { versionId }, o.batchSize, i) },
          });
          const into = r.duplicate ? sum.duplicate : sum.written;
          into.batches++;
          into.points += r.accepted;
          sum.sent++;
          bar?.update(Math.min(points.length, (i + 1) * o.batchSize), { batch: i + 1, batches });
        }
      } finally {
        bar?.stop();
      }
      print(g.json, sum, () => `${sum.complete ? 'pushed' : `stopped after ${last} of ${batches} batches;`} ${sum.written.points + sum.duplicate.points} points in ${sum.sent} batches: ` +
        `${sum.written.points} written, ${sum.duplicate.points} already stored${sum.complete ? '' : ' (run it again to push the rest)'}`);
    });

  metrics.command('tail').description('follow new metric points live; reconnects on its own and resumes with nothing missed or twice')
    .addOption(projectOption())
    .option('--model <name>', 'only series of this model\'s versions')
    .option('--alias <alias>', 'with --model: the version the alias points to, across moves')
    .option('--version-id <id>', 'only series of this version')
    .option('--name <metric>', 'only this metric (repeatable)', many)
    .option('--since <cursor>', 'resume after this cursor (printed with each event by --json, and on exit)')
    .option('--limit <n>', 'exit after this many points', int('--limit', 1))
    .action(async (o: { project: string; model?: string; alias?: string; versionId?: string; name?: string[]; since?: string; limit?: number }, cmd: Command) => {
      const g = globalsOf(cmd);
      const client = clientOf(g);
      const filter: MetricStreamFilter = { modelName: o.model, alias: o.alias, modelVersionId: o.versionId, names: o.name };
      const stream = client.metricPoints({ projectSlug: o.project, filter }, {
        since: o.since,
        onReconnect: ({ error, attempt }) => process.stderr.write(`modelgraph: connection lost (${error.message}); reconnecting (attempt ${attempt})\n`),
      });
      const stop = () => stream.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let seen = 0;
      try {
        for await (const e of stream) {
          const labels = Object.entries(e.series.labels).map(([k, v]) => `${k}=${String(v)}`).join(',');
          const points = o.limit === undefined ? e.points : e.points.slice(0, o.limit - seen);
          if (g.json) {
            process.stdout.write(`${JSON.stringify({ cursor: e.cursor, series: e.series, points })}\n`);
          } else {
            for (const p of points) process.stdout.write(`${p.timestamp}  ${e.series.name}${labels ? `{${labels}}` : ''}  ${p.value}\n`);
          }
          seen += points.length;
          if (o.limit !== undefined && seen >= o.limit) break;
        }
      } finally {
        stream.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (stream.cursor && !g.json) process.stderr.write(`modelgraph: resume with --since ${stream.cursor}\n`);
        await client.close();
      }
    });

  return root;
}

/** Runs the command line; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const root = program();
  const json = argv.includes('--json');
  root.exitOverride();
  for (const cmd of allCommands(root)) cmd.exitOverride();
  try {
    await root.parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end the parse with an "error" that is none.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    reportError(err, json);
    return exitCodeOf(err);
  }
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** The `modelgraph` command (bin/modelgraph.js): runs the process's arguments and sets its exit code. */
export function main(): void {
  // Output piped into a reader that stopped (`| head`) is not an error of the command.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(EXIT.OK); else throw err; });
  void run(process.argv).then((code) => { process.exitCode = code; });
}

if (require.main === module) main();
