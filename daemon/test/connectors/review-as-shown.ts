// For tests that put a connector straight into the configuration: what `errand connectors add`
// (or `accept`) does for a person, pinning each tool's text as shown. The daemon itself never pins
// a text on first sight, so without this a fresh connector offers no tool.
import { homePaths } from '../../src/config/paths.js';
import { controlCall } from '../../src/control/client.js';
import type { ConnectorManager } from '../../src/tools/connectors/index.js';

/** Every connected connector of `manager`: its not-yet-pinned tools accepted as shown. */
export async function reviewAll(manager: ConnectorManager): Promise<void> {
  await manager.settled();
  for (const s of manager.statuses()) {
    if (s.status !== 'connected' || !s.changedTools?.length) continue;
    const { tools } = manager.toolsView(s.name);
    await manager.accept(s.name, Object.fromEntries(tools.filter((t) => t.changed).map((t) => [t.name, t.pin!])));
  }
}

/** The same through a running daemon's control socket in `home` (as `errand connectors accept --yes`). */
export async function reviewOver(home: string, name: string): Promise<void> {
  const socket = homePaths(home).socket;
  const { tools } = await controlCall(socket, 'connectors.tools', { name });
  const pins = Object.fromEntries(tools.filter((t) => t.changed).map((t) => [t.name, t.pin!]));
  if (Object.keys(pins).length) await controlCall(socket, 'connectors.accept', { name, pins });
}
