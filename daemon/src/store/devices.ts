// Paired devices. Tokens are stored only as sha256 hashes.
//
// A rename or revoke is made here, and this file's write is its commit point: the token check reads
// this file, so a revoke holds from the moment it is durable. What the command still owes its sender
// (its reply, and that its event is published) is written in the same write as `owed`, and dropped
// once the journal remembers the reply (see device-changes.ts). A device paired here is `unconfirmed`
// until its token is first used: a kill before the phone got its token leaves a device nobody holds,
// which a pairing again under the same name after the restart replaces, and a start a day later forgets.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { Device } from '../../../shared/src/index.js';
import { openDoc, zodValidator } from './doc.js';

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

  private constructor(private readonly db: Low<DevicesDoc>) {}

  /** Opens the devices file; a home without one gets it written now. */
  static async open(dir: string): Promise<DeviceStore> {
    const db = await openDoc<DevicesDoc>({
      file: path.join(dir, 'devices.json'),
      version: 1,
      validate: zodValidator(DevicesDoc),
      initial: () => ({ schema: 1, devices: [] }),
      writeIfMissing: true,
    });
    return new DeviceStore(db);
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
    if (device?.unconfirmed) this.confirm(device);
    return device;
  }

  private confirm(device: DeviceRecord): void {
    delete device.unconfirmed;
    device.lastSeenAt ??= Date.now();
    // Not awaited (the token check is synchronous). Lost to a crash, the next use confirms it again.
    void this.db.write().catch(() => undefined);
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
    const data = this.db.data;
    data.devices = data.devices.filter((d) => !(d.unconfirmed && d.name === name && d.pairedAt < this.openedAt));
    data.devices.push(device);
    await this.db.write();
    return { device, token };
  }

  /** Rename; `owed` (the command's reply) is written with the change. */
  async rename(id: string, name: string, owed?: OwedChange): Promise<DeviceRecord | undefined> {
    const d = this.get(id);
    if (!d) return undefined;
    d.name = name;
    if (owed) this.owe(owed);
    await this.db.write();
    return d;
  }

  /** Unpair: the token stops working once this resolves. `owed` (the command's reply) is written with it. */
  async remove(id: string, owed?: OwedChange): Promise<boolean> {
    const before = this.db.data.devices.length;
    this.db.data.devices = this.db.data.devices.filter((d) => d.id !== id);
    if (this.db.data.devices.length === before) return false;
    if (owed) this.owe(owed);
    await this.db.write();
    return true;
  }

  /** Unconfirmed devices paired before `before`: their phone would have used its token long since. */
  async forgetUnconfirmed(before: number): Promise<DeviceRecord[]> {
    const gone = this.db.data.devices.filter((d) => d.unconfirmed && d.pairedAt < before);
    if (!gone.length) return [];
    this.db.data.devices = this.db.data.devices.filter((d) => !gone.includes(d));
    await this.db.write();
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
    const owed = this.db.data.owed ?? [];
    const left = owed.filter((o) => !paid(o));
    if (left.length === owed.length) return;
    if (left.length) this.db.data.owed = left;
    else delete this.db.data.owed;
    await this.db.write();
  }

  private owe(o: OwedChange): void {
    const owed = (this.db.data.owed ??= []);
    owed.push(o);
    owed.splice(0, Math.max(0, owed.length - OWED_KEPT));
  }

  /** Last-seen times change often and matter little: kept in memory, written with the next write or at stop. */
  touch(id: string, address: string | undefined): void {
    const d = this.get(id);
    if (!d) return;
    d.lastSeenAt = Date.now();
    if (address) d.lastAddress = address;
  }

  flush(): Promise<void> {
    return this.db.write();
  }
}

/** What a client may see of a device (never the token hash). A device never used has no `lastSeenAt`. */
export function publicDevice(d: DeviceRecord, online?: boolean): Device {
  const { tokenHash: _hash, unconfirmed: _unconfirmed, ...rest } = d;
  return online === undefined ? rest : { ...rest, online };
}
