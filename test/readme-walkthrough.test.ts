import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationDefinitionNode, parse } from 'graphql';
import { TestServer, startTestServer, unique } from './support/harness';

/**
 * The README's GenAI walk-through runs as written: every ```graphql block under its heading, in
 * order, against a real server, each with the variables the text says it takes (ids from the
 * answers before it). A block that no longer parses, validates or runs fails here.
 */

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

function walkthroughBlocks(): string[] {
  const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
  const section = /\n## GenAI walk-through\n([\s\S]*?)\n## /.exec(readme);
  if (!section) throw new Error('README.md has no "## GenAI walk-through" section');
  return [...section[1].matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('the README\'s GenAI walk-through: prompt, two routes at 90/10, usage and feedback, the verdict and the cost report', async () => {
  const blocks = walkthroughBlocks();
  const names = blocks.map((b) => (parse(b).definitions[0] as OperationDefinitionNode).name?.value);
  expect(names).toEqual(['Register', 'Versions', 'Deploy', 'Route', 'Serve', 'Rate', 'Verdict']);
  const vars: Record<string, unknown> = { slug: unique('support') };
  const from = new Date(Date.now() - 60_000).toISOString();
  const answers: Record<string, any> = {};
  for (const [i, block] of blocks.entries()) {
    const op = parse(block).definitions[0] as OperationDefinitionNode;
    if (names[i] === 'Verdict') Object.assign(vars, { from, to: new Date(Date.now() + 60_000).toISOString() });
    // Each block gets exactly the variables it declares.
    const declared = Object.fromEntries((op.variableDefinitions ?? []).map((d) => [d.variable.name.value, vars[d.variable.name.value]]));
    expect([names[i], Object.entries(declared).filter(([, v]) => v === undefined).map(([k]) => k)]).toEqual([names[i], []]);
    const res = await t.gql(block, declared);
    expect([names[i], res.errors]).toEqual([names[i], undefined]);
    const data = answers[names[i]!] = res.data;
    if (names[i] === 'Register') Object.assign(vars, { modelId: data.createModel.model.id, promptId: data.createPrompt.prompt.id });
    if (names[i] === 'Versions') {
      Object.assign(vars, { controlId: data.control.modelVersion.id, candidateId: data.candidate.modelVersion.id, promptVersionId: data.createPromptVersion.promptVersion.id });
    }
    if (names[i] === 'Deploy') vars.deploymentId = data.createDeployment.deployment.id;
  }

  expect(answers.Route.setDeploymentRoutes.revision.revision).toBe(1);
  expect(answers.Serve.recordUsage).toEqual({ accepted: 3, duplicates: 0, unpriced: 0 });
  const routes = answers.Verdict.node.experiment.routes;
  expect(routes.map((r: { name: string; control: boolean; observations: number; estimate: number }) => [r.name, r.control, r.observations, r.estimate]))
    .toEqual([['control', true, 2, 0.5], ['candidate', false, 1, 1]]);
  // What the text says: not enough data, and how much is needed (10 up and 10 down at a pooled share of 2/3: 30 votes).
  expect(routes[1]).toMatchObject({ verdict: 'NOT_ENOUGH_DATA', minimumSampleSize: 30, sampleRule: 'at least 10 successes and 10 failures per route' });
  // Control: 420 in, 180 out and 380 in, 95 out at $2.50 / $10 per million; candidate: 400 in, 150 out at $0.15 / $0.60.
  expect(routes[0].route).toMatchObject({ weight: 90, usage: { requests: 2 } });
  expect(routes[0].route.usage.costUsd).toBeCloseTo(0.00475, 12);
  expect(routes[1].route.usage).toMatchObject({ requests: 1, p95LatencyMs: 350 });
  expect(routes[1].route.usage.costUsd).toBeCloseTo(0.00015, 12);
  const [row] = answers.Verdict.project.costReport.rows;
  expect(row).toMatchObject({ deployment: { name: 'support-chat' }, requests: 3, p50LatencyMs: 640 });
  expect(row.costUsd).toBeCloseTo(0.0049, 12);
});
