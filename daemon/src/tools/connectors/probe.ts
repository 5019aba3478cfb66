// Before a connector is saved enabled: launch it (or open its URL), do the MCP handshake and list its
// tools, then close. A failure is named the way a person can act on it: the program was not found,
// the address refused, the server closed the connection, or it did not answer in time.
import type { ConnectorConfig } from '../../config/schema.js';
import { mcpClient, openTransport } from './connector.js';

export type ProbeResult =
  | { ok: true; tools: number }
  | { ok: false; kind: 'not found' | 'refused' | 'closed' | 'timed out' | 'failed'; reason: string };

function classify(err: Error, config: ConnectorConfig, stderr: string): ProbeResult {
  const text = `${err.message} ${(err as { cause?: Error }).cause?.message ?? ''} ${(err as NodeJS.ErrnoException).code ?? ''}`;
  const tail = stderr.trim().split('\n').slice(-2).join(' | ').slice(-300);
  const withTail = (s: string) => (tail ? `${s} (its output: ${tail})` : s);
  if (/ENOENT/.test(text) && config.transport === 'stdio')
    return {
      ok: false,
      kind: 'not found',
      reason: `the program "${config.command}" was not found (is it installed and on PATH?)`,
    };
  if (/ECONNREFUSED|fetch failed|ENOTFOUND|EHOSTUNREACH/.test(text))
    return {
      ok: false,
      kind: 'refused',
      reason: `nothing answered at ${config.transport === 'http' ? config.url : 'its address'} (${err.message})`,
    };
  if (/did not answer within/.test(text)) return { ok: false, kind: 'timed out', reason: withTail(err.message) };
  if (/closed|EPIPE|exit/i.test(text))
    return {
      ok: false,
      kind: 'closed',
      reason: withTail('the server closed the connection before the MCP handshake finished'),
    };
  return { ok: false, kind: 'failed', reason: withTail(err.message) };
}

export async function probeConnector(
  config: ConnectorConfig,
  secrets: Record<string, string>,
  timeoutMs = 15_000,
): Promise<ProbeResult> {
  const { Client } = await mcpClient();
  let stderr = '';
  // The transport reports why it failed here; the close that follows would hide it.
  let transportError: Error | undefined;
  const client = new Client({ name: 'errand', version: 'probe' }, { capabilities: {} });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the server did not answer within ${Math.round(timeoutMs / 1000)}s`)),
      timeoutMs,
    );
  });
  try {
    const transport = await openTransport(config, secrets, (t) => {
      stderr = (stderr + t).slice(-2000);
    });
    // A stdio server that exits before answering: the SDK reports it as a closed connection.
    client.onerror = (e) => {
      transportError ??= e;
    };
    const closed = new Promise<never>((_, reject) => {
      client.onclose = () => reject(new Error('connection closed'));
    });
    await Promise.race([client.connect(transport), deadline, closed]);
    const tools = await Promise.race([client.listTools(), deadline, closed]);
    return { ok: true, tools: tools.tools.length };
  } catch (err) {
    const e = err as Error;
    return classify(e.message === 'connection closed' && transportError ? transportError : e, config, stderr);
  } finally {
    clearTimeout(timer);
    client.onclose = undefined;
    client.onerror = undefined;
    await client.close().catch(() => undefined);
  }
}
