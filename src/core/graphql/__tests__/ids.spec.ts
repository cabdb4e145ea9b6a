import { defineNodeType, keyOf, parseGlobalId, registerNodeType, toGlobalId } from '../ids';
import { checkCursorValues, decodeCursor, encodeCursor, pageSize } from '../pagination';

const UUID = '0b0e7f3a-5a1d-4c8e-9f00-1234567890ab';

// The kernel knows no feature: the test registers the node types it parses, as modules do.
class Model {}
class Project {}
class AliasEvent {}
class AuditEvent {}
const spec = (name: string, cls: new () => object, key: 'uuid' | 'bigint') =>
  defineNodeType({ name, cls, key, load: async () => null, projectOf: () => null });
beforeAll(() => {
  registerNodeType(spec('Model', Model, 'uuid'));
  registerNodeType(spec('Project', Project, 'uuid'));
  registerNodeType(spec('AliasEvent', AliasEvent, 'bigint'));
  registerNodeType(spec('AuditEvent', AuditEvent, 'bigint'));
});

test('global ids round-trip and carry their type', () => {
  const id = toGlobalId('Model', UUID);
  expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(parseGlobalId(id)).toEqual({ type: 'Model', key: UUID });
  expect(keyOf(toGlobalId('AliasEvent', '42'), 'AliasEvent')).toBe('42');
});

test.each([
  ['garbage', '!!!'],
  ['unknown type', Buffer.from(`Nope:${UUID}`).toString('base64url')],
  ['bad uuid key', Buffer.from('Model:1234').toString('base64url')],
  ['bad bigint key', Buffer.from('AuditEvent:abc').toString('base64url')],
  ['empty', ''],
])('a malformed id (%s) is BAD_USER_INPUT', (_, id) => {
  expect(() => parseGlobalId(id)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
});

test('an id of another type is BAD_USER_INPUT naming the field', () => {
  expect(() => keyOf(toGlobalId('Project', UUID), 'Model', 'modelId')).toThrow(
    expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'modelId' }) }),
  );
});

test('cursors round-trip; malformed ones are BAD_USER_INPUT', () => {
  expect(decodeCursor(encodeCursor(['m.name', 'abc']), 2)).toEqual(['m.name', 'abc']);
  expect(decodeCursor(null, 2)).toBeNull();
  for (const bad of ['%%%', Buffer.from('{"a":1}').toString('base64url'), encodeCursor(['x']), encodeCursor([{}, 1] as never)]) {
    expect(() => decodeCursor(bad, 2)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  }
});

test('ids and cursors take a uuid only as Postgres prints it', () => {
  const badInput = expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) });
  expect(() => checkCursorValues([UUID], ['uuid'])).not.toThrow();
  for (const bad of [UUID.toUpperCase(), UUID.replace(/-/g, ''), `{${UUID}}`]) {
    expect(() => checkCursorValues([bad], ['uuid'])).toThrow(badInput);
    expect(() => parseGlobalId(Buffer.from(`Model:${bad}`).toString('base64url'))).toThrow(badInput);
  }
});

test('page sizes: default 20, at most 100', () => {
  expect(pageSize(undefined)).toBe(20);
  expect(pageSize(100)).toBe(100);
  expect(() => pageSize(101)).toThrow();
  expect(() => pageSize(-1)).toThrow();
});
