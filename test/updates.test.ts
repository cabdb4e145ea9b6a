import { TestServer, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

// Update inputs: an absent field keeps its value, an explicit null clears a nullable one, and
// null on a field whose column cannot be empty is BAD_USER_INPUT naming that field.

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const MODEL_FIELDS = 'id description task license tags { key value }';
const UPDATE_MODEL = `mutation($input: UpdateModelInput!) { updateModel(input: $input) { model { ${MODEL_FIELDS} } } }`;
const MODEL = `query($id: ID!) { node(id: $id) { ... on Model { ${MODEL_FIELDS} } } }`;
const MONITOR_FIELDS = 'id status lastValue threshold warningThreshold windowSeconds';
const UPDATE_MONITOR = `mutation($input: UpdateMonitorInput!) { updateMonitor(input: $input) { monitor { ${MONITOR_FIELDS} } } }`;
const MONITOR = `query($id: ID!) { node(id: $id) { ... on Monitor { ${MONITOR_FIELDS} } } }`;
const AUDIT = `query($slug: String!, $filter: AuditEventFilter) {
  project(slug: $slug) { auditEvents(first: 100, filter: $filter) { nodes { action targetId details } } } }`;

/** The project's audit events of one action on one object, newest first. */
async function audits(slug: string, action: string, targetId: string): Promise<{ details: { before: any; after: any } }[]> {
  return (await t.ok(AUDIT, { slug, filter: { action, targetId } })).project.auditEvents.nodes;
}

describe('updateModel', () => {
  async function setup() {
    const { slug } = await createProject(t, 'upd');
    const model = await createModel(t, slug, unique('m'), {
      description: 'ranks things', task: 'ranking', license: 'apache-2.0', tags: [{ key: 'team', value: 'search' }],
    });
    return { slug, model };
  }
  const kept = { task: 'ranking', license: 'apache-2.0', tags: [{ key: 'team', value: 'search' }] };

  test('an explicit null clears the field; the audit record shows the old value and the null', async () => {
    const { slug, model } = await setup();
    const cleared = (await t.ok(UPDATE_MODEL, { input: { id: model.id, description: null } })).updateModel.model;
    expect(cleared).toEqual({ id: model.id, description: null, ...kept });
    expect((await t.ok(MODEL, { id: model.id })).node).toEqual(cleared);
    const [audit] = await audits(slug, 'model.update', model.id);
    expect(audit.details.before).toMatchObject({ description: 'ranks things', ...kept });
    expect(audit.details.after).toMatchObject({ description: null, ...kept });

    // A null written in the query text, not only in variables, clears as well.
    const literal = await t.ok(`mutation($id: ID!) { updateModel(input: { id: $id, task: null, license: null }) { model { ${MODEL_FIELDS} } } }`, { id: model.id });
    expect(literal.updateModel.model).toEqual({ id: model.id, description: null, task: null, license: null, tags: kept.tags });
    expect(await audits(slug, 'model.update', model.id)).toHaveLength(2);
  });

  test('an absent field keeps its value; an input with nothing to change writes nothing', async () => {
    const { slug, model } = await setup();
    const changed = (await t.ok(UPDATE_MODEL, { input: { id: model.id, license: 'mit' } })).updateModel.model;
    expect(changed).toEqual({ id: model.id, description: 'ranks things', task: 'ranking', license: 'mit', tags: kept.tags });
    const [audit] = await audits(slug, 'model.update', model.id);
    expect(audit.details).toMatchObject({ before: { license: 'apache-2.0', description: 'ranks things' }, after: { license: 'mit', description: 'ranks things' } });

    const untouched = (await t.ok(UPDATE_MODEL, { input: { id: model.id } })).updateModel.model;
    expect(untouched).toEqual(changed);
    expect(await audits(slug, 'model.update', model.id)).toHaveLength(1);
  });

  test('tags cannot be null (give [] to remove them): BAD_USER_INPUT naming the field, nothing changed', async () => {
    const { slug, model } = await setup();
    const res = await t.gql(UPDATE_MODEL, { input: { id: model.id, description: null, tags: null } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags' });
    expect(res.errors?.[0].message).toContain('tags');
    expect((await t.ok(MODEL, { id: model.id })).node).toEqual({ id: model.id, description: 'ranks things', ...kept });
    expect(await audits(slug, 'model.update', model.id)).toHaveLength(0);

    const emptied = (await t.ok(UPDATE_MODEL, { input: { id: model.id, tags: [] } })).updateModel.model;
    expect(emptied).toEqual({ id: model.id, description: 'ranks things', task: 'ranking', license: 'apache-2.0', tags: [] });
  });
});

describe('updateMonitor', () => {
  const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

  /** A monitor that is in WARNING: the last value 9 crosses warningThreshold 8, not threshold 10. */
  async function warningMonitor() {
    const { slug } = await createProject(t, 'upd');
    const model = await createModel(t, slug);
    const v1 = await createVersion(t, model.id);
    const mo = (await t.ok(`mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id } } }`, {
      input: {
        projectSlug: slug, name: unique('mon'), metric: 'latency_ms', modelVersionId: v1.id,
        aggregation: 'LAST', windowSeconds: 600, comparator: 'GT', threshold: 10, warningThreshold: 8,
      },
    })).createMonitor.monitor;
    await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`, {
      input: { projectSlug: slug, points: [{ modelVersionId: v1.id, name: 'latency_ms', timestamp: ago(30), value: 9 }] },
    });
    expect((await t.ok(MONITOR, { id: mo.id })).node).toMatchObject({ status: 'WARNING', warningThreshold: 8 });
    return { slug, id: mo.id as string };
  }

  test('an explicit null clears warningThreshold: no more WARNING, and the audit record shows the change', async () => {
    const { slug, id } = await warningMonitor();
    const cleared = (await t.ok(UPDATE_MONITOR, { input: { id, warningThreshold: null } })).updateMonitor.monitor;
    expect(cleared).toEqual({ id, status: 'OK', lastValue: 9, threshold: 10, warningThreshold: null, windowSeconds: 600 });
    const [audit] = await audits(slug, 'monitor.update', id);
    expect(audit.details).toMatchObject({
      before: { threshold: 10, warningThreshold: 8, windowSeconds: 600, paused: false },
      after: { threshold: 10, warningThreshold: null, windowSeconds: 600, paused: false },
    });
  });

  test('an absent warningThreshold keeps its value while other fields change', async () => {
    const { slug, id } = await warningMonitor();
    const raised = (await t.ok(UPDATE_MONITOR, { input: { id, threshold: 20 } })).updateMonitor.monitor;
    expect(raised).toEqual({ id, status: 'WARNING', lastValue: 9, threshold: 20, warningThreshold: 8, windowSeconds: 600 });
    const [audit] = await audits(slug, 'monitor.update', id);
    expect(audit.details).toMatchObject({ before: { threshold: 10, warningThreshold: 8 }, after: { threshold: 20, warningThreshold: 8 } });
  });

  test.each(['threshold', 'windowSeconds', 'paused'])('%s cannot be null: BAD_USER_INPUT naming the field, nothing changed', async (field) => {
    const { slug, id } = await warningMonitor();
    const res = await t.gql(UPDATE_MONITOR, { input: { id, warningThreshold: null, [field]: null } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await t.ok(MONITOR, { id })).node).toEqual({ id, status: 'WARNING', lastValue: 9, threshold: 10, warningThreshold: 8, windowSeconds: 600 });
    expect(await audits(slug, 'monitor.update', id)).toHaveLength(0);
  });
});
