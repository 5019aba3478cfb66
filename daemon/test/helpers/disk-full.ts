// A full disk for one kind of write: writes of data containing `marker` through a file descriptor
// (config.json's temp file, for example) fail with ENOSPC until restored; every other write goes on.
import fs from 'node:fs';
import { vi } from 'vitest';

export function failWritesContaining(marker: string): { restore(): void } {
  const write = fs.writeFileSync;
  const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation(((
    target: unknown,
    data: unknown,
    ...rest: unknown[]
  ) => {
    if (typeof target === 'number' && String(data).includes(marker))
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (write as (...a: unknown[]) => void)(target, data, ...rest);
  }) as typeof fs.writeFileSync);
  return { restore: () => spy.mockRestore() };
}
