// Paired devices. Tokens are stored only as sha256 hashes.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { Device } from '../../../shared/src/index.js';
import { openDoc, zodValidator } from './doc.js';

const DeviceRecord = Device.omit({ online: true }).extend({ tokenHash: z.string().length(64) });
export type DeviceRecord = z.infer<typeof DeviceRecord>;
const DevicesDoc = z.object({ schema: z.literal(1), devices: z.array(DeviceRecord) });
type DevicesDoc = z.infer<typeof DevicesDoc>;

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export class DeviceStore {
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

  /** Find the device a token belongs to, comparing hashes in constant time. */
  byToken(token: string): DeviceRecord | undefined {
    const h = Buffer.from(hashToken(token), 'hex');
    return this.db.data.devices.find((d) => crypto.timingSafeEqual(Buffer.from(d.tokenHash, 'hex'), h));
  }

  async add(name: string, address: string | undefined): Promise<{ device: DeviceRecord; token: string }> {
    const token = crypto.randomBytes(32).toString('base64url'); // 256 bits
    const device: DeviceRecord = {
      id: `dev_${crypto.randomBytes(9).toString('base64url')}`,
      name,
      pairedAt: Date.now(),
      lastAddress: address,
      tokenHash: hashToken(token),
    };
    this.db.data.devices.push(device);
    await this.db.write();
    return { device, token };
  }

  async rename(id: string, name: string): Promise<DeviceRecord | undefined> {
    const d = this.get(id);
    if (!d) return undefined;
    d.name = name;
    await this.db.write();
    return d;
  }

  async remove(id: string): Promise<boolean> {
    const before = this.db.data.devices.length;
    this.db.data.devices = this.db.data.devices.filter((d) => d.id !== id);
    if (this.db.data.devices.length === before) return false;
    await this.db.write();
    return true;
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

/** What a client may see of a device (never the token hash). */
export function publicDevice(d: DeviceRecord, online?: boolean): Device {
  const { tokenHash: _hash, ...rest } = d;
  return online === undefined ? rest : { ...rest, online };
}
