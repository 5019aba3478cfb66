// Open one durable, versioned lowdb document.
import { Low } from 'lowdb';
import { PARSE_ONCE } from '../util/parse-once.js';
import { DurableJsonFile } from './durable-file.js';
import { decodeVersioned, type Migration, type Versioned } from './schema-version.js';

export interface DocSpec<T extends Versioned> {
  file: string;
  version: number;
  migrations?: Record<number, Migration>;
  /** Checks the shape after migration; throws with a description of what is wrong. */
  validate: (value: unknown) => T;
  initial: () => T;
  keepBackup?: boolean;
  /** Fail when the file does not exist instead of starting from `initial`. */
  mustExist?: boolean;
  /** Write `initial` to the file when it does not exist yet. */
  writeIfMissing?: boolean;
}

export async function openDoc<T extends Versioned>(spec: DocSpec<T>): Promise<Low<T>> {
  const adapter = new DurableJsonFile<T>(
    spec.file,
    (v) => decodeVersioned(v, spec.version, spec.migrations ?? {}, spec.validate),
    spec.keepBackup ?? true,
  );
  const db = new Low<T>(adapter, spec.initial());
  const found = await adapter.read();
  if (found === null && spec.mustExist) throw new Error(`${spec.file} does not exist`);
  if (found !== null) db.data = found;
  else if (spec.writeIfMissing) await db.write();
  return db;
}

/** Turn a zod error into a short description naming the first bad key. */
export function zodValidator<T>(schema: {
  safeParse: (
    v: unknown,
    params?: { jitless?: boolean },
  ) =>
    | { success: true; data: T }
    | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}) {
  return (value: unknown): T => {
    const r = schema.safeParse(value, PARSE_ONCE); // a store file is read once, at open
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new Error(`${issue.path.map(String).join('.') || 'top level'}: ${issue.message}`);
  };
}
