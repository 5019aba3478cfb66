// The HTTP requests each paired device has under way (uploads, downloads), so revoking the device
// cuts them off at once, as it closes its WebSockets: a revoked phone must not finish an upload or
// keep receiving a file.
import type { ServerResponse } from 'node:http';

export class DeviceRequests {
  private live = new Map<string, Set<ServerResponse>>();

  /** Follows this response until it closes (finished or aborted). */
  track(deviceId: string, response: ServerResponse): void {
    let mine = this.live.get(deviceId);
    if (!mine) this.live.set(deviceId, (mine = new Set()));
    mine.add(response);
    response.once('close', () => {
      mine.delete(response);
      if (mine.size === 0 && this.live.get(deviceId) === mine) this.live.delete(deviceId);
    });
  }

  /** How many of this device's requests are under way. */
  count(deviceId: string): number {
    return this.live.get(deviceId)?.size ?? 0;
  }

  /**
   * Ends every request of this device by destroying its connection: HTTP/1.1 answers one request
   * at a time on a connection, so the one under way there is this device's.
   */
  cut(deviceId: string): void {
    const mine = this.live.get(deviceId);
    this.live.delete(deviceId);
    for (const response of mine ?? []) response.destroy();
  }
}
