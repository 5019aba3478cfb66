// Command ids: 8–64 chars of [A-Za-z0-9_-]. Random enough that two devices never collide.
export function newId(prefix = 'c'): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += (b & 63).toString(36).padStart(2, '0');
  return `${prefix}_${Date.now().toString(36)}_${s}`.slice(0, 64);
}
