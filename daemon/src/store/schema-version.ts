// Every store file carries a schema version. Older versions are migrated step by step on load;
// a newer (unknown) version is refused so an old daemon never damages a newer store.
export interface Versioned {
  schema: number;
}

export type Migration = (value: Record<string, unknown>) => Record<string, unknown>;

export function decodeVersioned<T>(
  value: unknown,
  current: number,
  migrations: Record<number, Migration>,
  validate: (v: unknown) => T,
): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('does not hold a JSON object');
  let obj = value as Record<string, unknown>;
  const version = obj.schema;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new Error('has no schema version');
  if (version > current)
    throw new Error(
      `has schema version ${version}, which this Errand (knows up to ${current}) cannot read; update Errand`,
    );
  for (let v = version; v < current; v++) {
    const migrate = migrations[v];
    if (!migrate) throw new Error(`has schema version ${version} and no migration exists from ${v}`);
    obj = { ...migrate(obj), schema: v + 1 };
  }
  try {
    return validate(obj);
  } catch (err) {
    throw new Error(`does not match schema version ${current}: ${(err as Error).message}`);
  }
}
