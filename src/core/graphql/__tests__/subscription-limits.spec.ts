import { SubscriptionRegistry, releaseWhenDone } from '../subscription-limits';

const refused = (limit: string, max: number) => expect.objectContaining({ extensions: { code: 'RATE_LIMITED', limit, max } });

test('each limit refuses the one over it, and a release frees its place once', () => {
  const r = new SubscriptionRegistry({ perSocket: 2, perKey: 3, perProcess: 4 });
  const a1 = r.acquire('s1', 'k1');
  r.acquire('s1', 'k1');
  expect(() => r.acquire('s1', 'k2')).toThrow(refused('maxSubscriptionsPerSocket', 2));
  r.acquire('s2', 'k1');
  expect(() => r.acquire('s3', 'k1')).toThrow(refused('maxSubscriptionsPerKey', 3));
  r.acquire('s3', 'k2');
  expect(() => r.acquire('s4', 'k3')).toThrow(refused('maxSubscriptions', 4));
  expect(r.active()).toEqual({ total: 4, sockets: 3, keys: 2 });
  a1();
  a1();
  expect(r.active()).toEqual({ total: 3, sockets: 3, keys: 2 });
  r.acquire('s4', 'k3');
  expect(() => r.acquire('s5', 'k4')).toThrow(refused('maxSubscriptions', 4));
});

test('releaseWhenDone: a result that is not a stream releases at once; a stream when it ends, fails or is returned', async () => {
  let released = 0;
  const release = () => { released++; };
  releaseWhenDone({ errors: [] }, release);
  expect(released).toBe(1);

  async function* two() { yield 1; yield 2; }
  const ending = releaseWhenDone(two(), release) as AsyncIterableIterator<number>;
  expect(await ending.next()).toEqual({ value: 1, done: false });
  expect(await ending.next()).toEqual({ value: 2, done: false });
  expect(released).toBe(1);
  expect(await ending.next()).toEqual({ value: undefined, done: true });
  expect(released).toBe(2);

  const returned = releaseWhenDone(two(), release) as AsyncIterableIterator<number>;
  await returned.next();
  await returned.return!();
  expect(released).toBe(3);

  async function* failing() { yield 1; throw new Error('boom'); }
  const failed = releaseWhenDone(failing(), release) as AsyncIterableIterator<number>;
  await failed.next();
  await expect(failed.next()).rejects.toThrow('boom');
  expect(released).toBe(4);
});
