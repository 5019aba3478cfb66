// The connectors (MCP servers) in config.json: how many are enabled, and which the running daemon
// could not connect.
import type { Config } from '../config/schema.js';
import { withoutUrlCredentials } from '../util/url-credentials.js';
import type { Check } from './check.js';
import type { DaemonStatus } from './daemon-check.js';

export function checkConnectors(config: Config, daemon?: DaemonStatus): Check {
  const title = 'Connectors';
  const enabled = config.connectors.filter((c) => c.enabled);
  if (config.connectors.length === 0)
    return { id: 'connectors', title, status: 'ok', detail: 'none configured (optional)' };
  const summary = `${config.connectors.length} configured, ${enabled.length} enabled`;
  const failed = (daemon?.connectors ?? []).filter((c) => c.status === 'failed');
  if (failed.length) {
    return {
      id: 'connectors',
      title,
      status: 'warn',
      detail: `${summary}; failing: ${failed.map((c) => `${c.name}${c.reason ? ` (${withoutUrlCredentials(c.reason)})` : ''}`).join(', ')}`,
      fix: "Check each failing connector's command or URL in config.json, then restart the daemon.",
    };
  }
  if (daemon?.connectors) {
    const connected = daemon.connectors.filter((c) => c.status === 'connected').length;
    return { id: 'connectors', title, status: 'ok', detail: `${summary}; ${connected} connected` };
  }
  return { id: 'connectors', title, status: 'ok', detail: summary };
}
