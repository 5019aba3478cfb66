// The commands the daemon core answers itself: ping, status, devices, presence; and the matching
// control methods for the CLI.
import type { DaemonContext } from './context.js';
import { deviceChanges, senderOf } from './device-changes.js';
import type { Claim, Pairing } from './pairing/pairing.js';
import type { Gateway } from './server/gateway.js';
import { phoneOrigin } from './server/origins.js';
import { publicDevice } from './store/devices.js';

export function registerCoreCommands(ctx: DaemonContext, gateway: Gateway, pairing: Pairing): void {
  const { commands, control, store } = ctx;
  const devicesView = () => store.devices.list().map((d) => publicDevice(d, gateway.online(d.id)));

  // Each rename or revoke acts once and is published once, across a kill -9 (device-changes.ts).
  const devices = deviceChanges(ctx, gateway);

  commands.register('ping', async () => ({ pong: Date.now() }));
  commands.register('status.get', async () => ctx.status());
  commands.register('devices.list', async () => devices.ready.then(devicesView));
  commands.register('device.rename', async (c, cc) => devices.rename(senderOf(c, cc.device.id), c.deviceId, c.name));
  commands.register('device.revoke', async (c, cc) => devices.revoke(senderOf(c, cc.device.id), c.deviceId));
  commands.register('presence.set', async (c, cc) => {
    gateway.setView(cc.connectionId, { threadId: c.threadId, foreground: c.foreground });
    return null;
  });

  const str = (v: unknown, what: string) => {
    if (typeof v !== 'string' || !v) throw new Error(`missing ${what}`);
    return v;
  };
  control.register('status', async () => ({
    ...ctx.status(),
    pid: process.pid,
    home: ctx.paths.home,
    listening: ctx.listening(),
    devices: devicesView(),
  }));
  control.register('devices.list', async () => devices.ready.then(devicesView));
  control.register('devices.rename', async (p) => {
    const [deviceId, name] = [str(p.deviceId, 'deviceId'), str(p.name, 'name')];
    return devices.fromCli((by) => devices.rename(by, deviceId, name));
  });
  control.register('devices.revoke', async (p) => {
    const deviceId = str(p.deviceId, 'deviceId');
    return devices.fromCli((by) => devices.revoke(by, deviceId));
  });
  control.register('config.reload', async () => {
    ctx.reloadConfig();
    return { reloaded: true };
  });

  // `errand pair`: mint a code, report it, then report each claim on it and wait for the decision.
  // A session answers only for the code it showed (its mint id), never for another session's; and
  // when it ends without a pairing, its code is withdrawn so a phone opening it is told at once.
  control.register('pair.start', async (p, { progress, signal }) => {
    const { code, expiresAt, mintId } = pairing.mint();
    // The code points at an origin the daemon serves now: a LAN address set since the start is in
    // config.json (origins) but not yet on the socket (listening) until a restart.
    const { origin, phoneReachable } = phoneOrigin(ctx.listening());
    const restartNeeded = !phoneReachable && phoneOrigin(ctx.origins()).phoneReachable;
    const url = `${origin}/#pair=${code}`;
    progress({ type: 'code', code, url, expiresAt, phoneReachable, ...(restartNeeded ? { restartNeeded } : {}) });
    return new Promise((resolve, reject) => {
      const mine = (e: { mintId?: string }) => e.mintId === mintId;
      let claimed = false;
      const end = (result: Parameters<typeof resolve>[0] | Error) => {
        clearTimeout(expiry);
        clearTimeout(timer);
        pairing.events.off('claim', onClaim);
        pairing.events.off('paired', onPaired);
        pairing.events.off('declined', onDeclined);
        pairing.events.off('unanswered', onUnanswered);
        pairing.events.off('replaced', onReplaced);
        signal.removeEventListener('abort', onAbort);
        pairing.withdraw(mintId);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onClaim = (claim: Claim) => {
        if (!mine(claim)) return;
        claimed = true;
        const { mintId: _mint, ...shown } = claim;
        progress({ type: 'claim', claim: shown });
        if (p.autoApprove === true) pairing.decide(claim.id, true);
      };
      const onPaired = (d: { id: string; mintId: string; name: string; address?: string }) => {
        if (mine(d)) end({ paired: { id: d.id, name: d.name, address: d.address } });
      };
      const onDeclined = (e: { mintId: string }) => {
        if (mine(e)) end({ declined: true });
      };
      const onUnanswered = (e: { mintId: string; reason: string }) => {
        if (!mine(e)) return;
        if (e.reason === 'timeout') end({ expired: true });
        else end(new Error('The phone stopped waiting before the pairing was approved. Run `errand pair` again.'));
      };
      const onReplaced = (e: { mintId: string }) => {
        if (mine(e))
          end(
            new Error(
              'This pairing code was replaced by a newer `errand pair`; use the QR code that one shows (this one no longer works).',
            ),
          );
      };
      const onAbort = () => end({ cancelled: true });
      // Unclaimed by its expiry, the code is done; a claim made in time has its own wait (3 minutes).
      const expiry = setTimeout(
        () => {
          if (!claimed) end({ expired: true });
        },
        Math.max(0, expiresAt - Date.now()),
      );
      const timer = setTimeout(() => end({ expired: true }), Math.max(0, expiresAt - Date.now()) + 180_000);
      pairing.events.on('claim', onClaim);
      pairing.events.on('paired', onPaired);
      pairing.events.on('declined', onDeclined);
      pairing.events.on('unanswered', onUnanswered);
      pairing.events.on('replaced', onReplaced);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  });
  control.register('pair.decide', async (p) => ({
    decided: pairing.decide(str(p.claimId, 'claimId'), p.approve === true),
  }));
}
