// Which connection makes room when a limit in all is reached: one from the address holding the
// most, so a crowd from one place (or a few) never pushes out someone arriving from elsewhere.

/**
 * Of items listed oldest first, the oldest from the key holding the most items, preferring items
 * `spare` calls spare (idle ones) within that key. Undefined when there are none.
 */
export function oldestOfBusiest<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
  spare: (item: T) => boolean = () => true,
): T | undefined {
  const counts = new Map<string, number>();
  let most = 0;
  for (const item of items) {
    const n = (counts.get(keyOf(item)) ?? 0) + 1;
    counts.set(keyOf(item), n);
    if (n > most) most = n;
  }
  let fallback: T | undefined;
  for (const item of items) {
    if (counts.get(keyOf(item)) !== most) continue;
    if (spare(item)) return item;
    fallback ??= item;
  }
  return fallback;
}
