// Before a connector is saved enabled: launch it (or open its URL), do the MCP handshake and list its
// tools, then close. The tools come back as the person reviews them, with the pin each text makes:
// what is pinned is what was shown. A failure is named the way a person can act on it: the program
// was not found, the address refused, the server closed the connection, or it did not answer in time.
import type { ConnectorConfig } from '../../config/schema.js';
import type { ConnectorToolView } from '../../control/protocol.js';
import { clientInfo, failureWords, listServerTools, mcpClient, openTransport, toolViews } from './connector.js';

export type ProbeResult =
  | { ok: true; tools: ConnectorToolView[]; leftOut?: string }
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

/**
 * `secrets`: the values the connector's env or headers name; `redact`: every secret to keep out of
 * the tool texts (the daemon takes out the same ones, so the pins match).
 */
export async function probeConnector(
  config: ConnectorConfig,
  secrets: Record<string, string>,
  opts: { redact?: string[]; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const { Client } = await mcpClient();
  let stderr = '';
  // The transport reports why it failed here; the close that follows would hide it.
  let transportError: Error | undefined;
  const client = new Client(clientInfo(), { capabilities: {} });
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
    const { kept, leftOut } = await Promise.race([
      listServerTools(client, opts.redact ?? Object.values(secrets)),
      deadline,
      closed,
    ]);
    return { ok: true, tools: toolViews(config.name, kept), ...(leftOut ? { leftOut } : {}) };
  } catch (err) {
    const e = err as Error;
    const failed = classify(e.message === 'connection closed' && transportError ? transportError : e, config, stderr);
    // Its output may quote the secrets it was given: the reason is printed, stored in config.json and shown on phones.
    if (!failed.ok) failed.reason = failureWords(failed.reason, [...Object.values(secrets), ...(opts.redact ?? [])]);
    return failed;
  } finally {
    clearTimeout(timer);
    client.onclose = undefined;
    client.onerror = undefined;
    await client.close().catch(() => undefined);
  }
}
