// How many requests of one kind (uploads, downloads) run at once, in all and per device: each holds
// a whole file in memory until it is saved or sent, so the counts bound the memory they can take.
import type { ServerResponse } from 'node:http';

export interface SlotLimits {
  total: number;
  perDevice: number;
}

/** Uploads: 8 x 25 MiB at most. */
export const UPLOAD_SLOTS: SlotLimits = { total: 8, perDevice: 3 };

export class RequestSlots {
  private total = 0;
  private perDevice = new Map<string, number>();

  constructor(private readonly limits: SlotLimits) {}

  /** Takes a slot for this response, given back when it closes (finished or aborted); false when full. */
  take(deviceId: string, response: ServerResponse): boolean {
    const mine = this.perDevice.get(deviceId) ?? 0;
    if (this.total >= this.limits.total || mine >= this.limits.perDevice) return false;
    this.total++;
    this.perDevice.set(deviceId, mine + 1);
    response.once('close', () => {
      this.total--;
      const left = (this.perDevice.get(deviceId) ?? 1) - 1;
      if (left > 0) this.perDevice.set(deviceId, left);
      else this.perDevice.delete(deviceId);
    });
    return true;
  }
}
