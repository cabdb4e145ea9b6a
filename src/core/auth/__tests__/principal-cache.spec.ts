import { setTimeout as sleep } from 'node:timers/promises';
import { PrincipalCache } from '../principal-cache';
import { Role } from '../role';

const alice = { keyId: 'k1', name: 'alice', role: Role.EDITOR, projectId: null };

test('caches only while revocations can be heard', () => {
  const c = new PrincipalCache();
  c.set('h1', alice);
  expect(c.get('h1')).toBeUndefined();
  c.setListening(true);
  c.set('h1', alice);
  expect(c.get('h1')).toEqual(alice);
  c.setListening(false);
  expect(c.get('h1')).toBeUndefined();
  c.setListening(true);
  expect(c.get('h1')).toBeUndefined(); // forgotten while deaf, not merely hidden
});

test('a dropped key is forgotten and not cached again by a request that raced the revocation', () => {
  const c = new PrincipalCache();
  c.setListening(true);
  c.set('h1', alice);
  c.dropKey('k1');
  expect(c.get('h1')).toBeUndefined();
  c.set('h1', alice);
  expect(c.get('h1')).toBeUndefined();
});

test('entries expire', async () => {
  const c = new PrincipalCache(10);
  c.setListening(true);
  c.set('h1', alice);
  await sleep(50);
  expect(c.get('h1')).toBeUndefined();
});
