// The connectors.* control methods the CLI calls (errand connectors list / accept). The socket is a
// boundary: each param is checked here.
import type { ControlServer } from '../../control/server.js';
import type { ConnectorManager } from './index.js';

const nameOf = (params: Record<string, unknown>): string => {
  if (typeof params.name !== 'string') throw new Error('name is required');
  return params.name;
};

/** `pins`: tool name → the pin hash connectors.tools showed for it. */
function pinsOf(params: Record<string, unknown>): Record<string, string> {
  const pins = params.pins;
  if (!pins || typeof pins !== 'object' || Array.isArray(pins))
    throw new Error(
      'pins is required: the hash connectors.tools showed for each tool you accept (update errand if it did not send them)',
    );
  const entries = Object.entries(pins as Record<string, unknown>);
  if (entries.length > 1000 || entries.some(([, v]) => typeof v !== 'string'))
    throw new Error('pins must map each tool name to the hash connectors.tools showed for it');
  return Object.fromEntries(entries) as Record<string, string>;
}

export function registerConnectorControl(control: ControlServer, connectors: ConnectorManager): void {
  control.register('connectors.list', async () => ({ connectors: connectors.statuses() }));
  control.register('connectors.tools', async (params) => connectors.toolsView(nameOf(params)));
  control.register('connectors.accept', async (params) => ({
    connector: await connectors.accept(nameOf(params), pinsOf(params)),
  }));
}
