/**
 * Groups items by key in one pass (O(n): each item is appended to its group, never copied).
 * Groups keep their items in input order; the map lists groups in the order of their first
 * item. `keyOf` gets the item's index too, for rows whose key sits in a parallel array.
 * `into` adds to groups made earlier, so concurrent batches can fill one map.
 */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T, index: number) => K, into: Map<K, T[]> = new Map()): Map<K, T[]> {
  let i = 0;
  for (const item of items) {
    const key = keyOf(item, i++);
    const group = into.get(key);
    if (group) group.push(item);
    else into.set(key, [item]);
  }
  return into;
}
