// How many uploads are being read at once, in all and per device: each body is held in memory
// until it is saved, so the count bounds the memory uploads can take (8 x 25 MB at most).
import type { ServerResponse } from 'node:http';

const MAX_UPLOADS = 8;
const MAX_UPLOADS_PER_DEVICE = 3;

export class UploadSlots {
  private total = 0;
  private perDevice = new Map<string, number>();

  /** Takes a slot for this response, given back when it closes (finished or aborted); false when full. */
  take(deviceId: string, response: ServerResponse): boolean {
    const mine = this.perDevice.get(deviceId) ?? 0;
    if (this.total >= MAX_UPLOADS || mine >= MAX_UPLOADS_PER_DEVICE) return false;
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
