// Paired devices. Tokens are stored only as sha256 hashes.
//
// A rename or revoke is made here, and this file's write is its commit point: the token check reads
// this file, so a revoke holds from the moment it is durable. What the command still owes its sender
// (its reply, and that its event is published) is written in the same write as `owed`, and dropped
// once the journal remembers the reply (see device-changes.ts). A device paired here is `unconfirmed`
// until its token is first used: a kill before the phone got its token leaves a device nobody holds,
// which a pairing again under the same name after the restart replaces, and a start a day later forgets.
//
// Every change is made on a copy first, that copy written, and only then made in memory: a write
// that fails (a full disk) leaves the device list as it was, so a change reported failed never takes
// effect, now or with the next write. Changes take turns, each starting from the list the last one left.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { Device } from '../../../shared/src/index.js';
import { openDoc, zodValidator } from './doc.js';
import { DiskFullError } from './journal-damage.js';

const DeviceRecord = Device.omit({ online: true }).extend({
  tokenHash: z.string().length(64),
  /** Paired, its token never presented yet: nobody may hold it (the phone's reply can be lost). */
  unconfirmed: z.literal(true).optional(),
});
export type DeviceRecord = z.infer<typeof DeviceRecord>;

/** A device change whose reply the journal may not hold yet: enough to answer it and publish its event. */
const OwedChange = z.object({
  /** The sender and its command id (a phone's, or one made for a CLI call), and the command's fingerprint. */
  device: z.string(),
  id: z.string(),
  h: z.string().optional(),
  change: z.enum(['rename', 'revoke']),
  /** The device renamed or revoked. */
  target: z.string(),
  reply: z.union([Device, z.object({ revoked: z.string() })]),
});
export type OwedChange = z.infer<typeof OwedChange>;

const DevicesDoc = z.object({
  schema: z.literal(1),
  devices: z.array(DeviceRecord),
  owed: z.array(OwedChange).optional(),
});
type DevicesDoc = z.infer<typeof DevicesDoc>;

/** Owed changes kept: each is dropped once its record is written, so more means appends keep failing. */
const OWED_KEPT = 100;

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export class DeviceStore {
  /** When this daemon opened the file: an unconfirmed device paired before it outlived a restart unused. */
  private readonly openedAt = Date.now();
  /** Devices whose token was used in this run: no longer "never used", even before that is written. */
  private readonly presented = new Set<string>();
  /** The change being written: the next one starts from what it leaves. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Low<DevicesDoc>,
    private readonly dir: string,
  ) {}

  /** Opens the devices file; a home without one gets it written now. */
  static async open(dir: string): Promise<DeviceStore> {
    const db = await openDoc<DevicesDoc>({
      file: path.join(dir, 'devices.json'),
      version: 1,
      validate: zodValidator(DevicesDoc),
      initial: () => ({ schema: 1, devices: [] }),
      writeIfMissing: true,
    });
    return new DeviceStore(db, dir);
  }

  list(): DeviceRecord[] {
    return this.db.data.devices;
  }
  get(id: string): DeviceRecord | undefined {
    return this.db.data.devices.find((d) => d.id === id);
  }

  /**
   * Find the device a token belongs to, comparing hashes in constant time. The first use confirms a
   * new device: someone holds its token.
   */
  byToken(token: string): DeviceRecord | undefined {
    const h = Buffer.from(hashToken(token), 'hex');
    const device = this.db.data.devices.find((d) => crypto.timingSafeEqual(Buffer.from(d.tokenHash, 'hex'), h));
    if (device?.unconfirmed) this.confirm(device.id);
    return device;
  }

  private confirm(id: string): void {
    this.presented.add(id);
    const seenAt = Date.now();
    // Not awaited (the token check is synchronous). Not written (a crash, a full disk), the next use confirms it again.
    void this.change((now) =>
      now.devices.some((d) => d.id === id && d.unconfirmed)
        ? (doc) => {
            const d = deviceIn(doc, id);
            delete d.unconfirmed;
            d.lastSeenAt ??= seenAt;
          }
        : undefined,
    ).catch(() => undefined);
  }

  /** Paired but its token never used: nobody holds it. */
  private neverUsed(d: DeviceRecord): boolean {
    return d.unconfirmed === true && !this.presented.has(d.id);
  }

  /**
   * A new device, unconfirmed until its token is used. It replaces an unconfirmed device of the same
   * name paired before this start: the same phone pairing again after a crash cut off its first
   * token (a phone that got one uses it as soon as the daemon is back).
   */
  async add(name: string, address: string | undefined): Promise<{ device: DeviceRecord; token: string }> {
    const token = crypto.randomBytes(32).toString('base64url'); // 256 bits
    const device: DeviceRecord = {
      id: `dev_${crypto.randomBytes(9).toString('base64url')}`,
      name,
      pairedAt: Date.now(),
      lastAddress: address,
      tokenHash: hashToken(token),
      unconfirmed: true,
    };
    await this.change((now) => {
      const replaced = idsOf(
        now.devices.filter((d) => this.neverUsed(d) && d.name === name && d.pairedAt < this.openedAt),
      );
      return (doc) => {
        doc.devices = doc.devices.filter((d) => !replaced.has(d.id));
        doc.devices.push({ ...device });
      };
    });
    return { device: this.get(device.id)!, token };
  }

  /** Rename; `owed` (the command's reply) is written with the change. */
  async rename(id: string, name: string, owed?: OwedChange): Promise<DeviceRecord | undefined> {
    const renamed = await this.change((now) =>
      now.devices.some((d) => d.id === id)
        ? (doc) => {
            deviceIn(doc, id).name = name;
            if (owed) owe(doc, owed);
          }
        : undefined,
    );
    return renamed ? this.get(id) : undefined;
  }

  /** Unpair: the token stops working once this resolves. `owed` (the command's reply) is written with it. */
  async remove(id: string, owed?: OwedChange): Promise<boolean> {
    return this.change((now) =>
      now.devices.some((d) => d.id === id)
        ? (doc) => {
            doc.devices = doc.devices.filter((d) => d.id !== id);
            if (owed) owe(doc, owed);
          }
        : undefined,
    );
  }

  /** Unconfirmed devices paired before `before`: their phone would have used its token long since. */
  async forgetUnconfirmed(before: number): Promise<DeviceRecord[]> {
    let gone: DeviceRecord[] = [];
    await this.change((now) => {
      gone = now.devices.filter((d) => this.neverUsed(d) && d.pairedAt < before);
      const ids = idsOf(gone);
      return ids.size
        ? (doc) => {
            doc.devices = doc.devices.filter((d) => !ids.has(d.id));
          }
        : undefined;
    });
    return gone;
  }

  /** Changes whose reply the journal may not hold (a crash came between this file and the journal). */
  owed(): OwedChange[] {
    return [...(this.db.data.owed ?? [])];
  }

  owedTo(device: string, id: string): OwedChange | undefined {
    return this.db.data.owed?.find((o) => o.device === device && o.id === id);
  }

  /** Drop the owed changes `paid` says the journal now holds. */
  async settle(paid: (o: OwedChange) => boolean): Promise<void> {
    await this.change((now) => {
      const dropped = new Set((now.owed ?? []).filter(paid).map(owedKey));
      if (!dropped.size) return undefined;
      return (doc) => {
        const left = (doc.owed ?? []).filter((o) => !dropped.has(owedKey(o)));
        if (left.length) doc.owed = left;
        else delete doc.owed;
      };
    });
  }

  /** Last-seen times change often and matter little: kept in memory, written with the next write or at stop. */
  touch(id: string, address: string | undefined): void {
    const d = this.get(id);
    if (!d) return;
    d.lastSeenAt = Date.now();
    if (address) d.lastAddress = address;
  }

  /** Write the last-seen times kept in memory. */
  async flush(): Promise<void> {
    await this.change(() => () => undefined);
  }

  /**
   * Make a change durably, or not at all. `decide` looks at the list as it is now (the changes
   * before it written) and returns the edit to make, or nothing to change. The edit is made on a
   * copy, which is written; only once that is on disk is it made on the list in memory (so the
   * objects callers hold stay the ones in use, and last-seen times set meanwhile are kept). A failed
   * write rejects (DiskFullError when the disk is full) and changes nothing.
   */
  private change(decide: (now: DevicesDoc) => ((doc: DevicesDoc) => void) | undefined): Promise<boolean> {
    const made = this.turn.then(async () => {
      const edit = decide(this.db.data);
      if (!edit) return false;
      const next = structuredClone(this.db.data);
      edit(next);
      await this.write(next);
      edit(this.db.data);
      return true;
    });
    this.turn = made.catch(() => undefined);
    return made;
  }

  private async write(doc: DevicesDoc): Promise<void> {
    try {
      await this.db.adapter.write(doc);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(this.dir) : err;
    }
  }
}

const idsOf = (devices: DeviceRecord[]) => new Set(devices.map((d) => d.id));
/** A device an edit was decided for: it is in the list the edit is made on (changes take turns). */
const deviceIn = (doc: DevicesDoc, id: string) => doc.devices.find((d) => d.id === id)!;
const owedKey = (o: OwedChange) => `${o.device}\u0000${o.id}`;

function owe(doc: DevicesDoc, o: OwedChange): void {
  const owed = (doc.owed ??= []);
  owed.push(o);
  owed.splice(0, Math.max(0, owed.length - OWED_KEPT));
}

/** What a client may see of a device (never the token hash). A device never used has no `lastSeenAt`. */
export function publicDevice(d: DeviceRecord, online?: boolean): Device {
  const { tokenHash: _hash, unconfirmed: _unconfirmed, ...rest } = d;
  return online === undefined ? rest : { ...rest, online };
}
