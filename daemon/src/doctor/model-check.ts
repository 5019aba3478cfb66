// The model: whether an API key is set where the daemon will see it, and whether the model endpoint
// answers and accepts it, with the endpoint's credentials never shown.
import type { Config } from '../config/schema.js';
import { isThisComputer } from '../server/origins.js';
import { basicAuthOf, withoutUrlCredentials } from '../util/url-credentials.js';
import type { Check } from './check.js';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

export function checkApiKey(
  config: Config,
  rawConfig: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  serviceInstalled: boolean,
  configFile: string,
): Check {
  const inFile = typeof (rawConfig.anthropic as Record<string, unknown> | undefined)?.apiKey === 'string';
  const inEnv = Boolean(env.ANTHROPIC_API_KEY);
  if (!config.anthropic.apiKey) {
    if (config.anthropic.baseUrl) {
      return {
        id: 'apiKey',
        title: 'API key',
        status: 'warn',
        detail: `not set (fine if your model server at ${withoutUrlCredentials(config.anthropic.baseUrl)} needs none)`,
        fix: `If it needs one, set "anthropic": {"apiKey": "…"} in ${configFile}.`,
      };
    }
    return {
      id: 'apiKey',
      title: 'API key',
      status: 'fail',
      detail: 'no Anthropic API key is configured',
      fix: `Create a key at https://console.anthropic.com/settings/keys and put it in ${configFile} as "anthropic": {"apiKey": "sk-ant-…"} (or set ANTHROPIC_API_KEY).`,
    };
  }
  if (!inFile && inEnv && serviceInstalled) {
    return {
      id: 'apiKey',
      title: 'API key',
      status: 'warn',
      detail: "set only in this shell's ANTHROPIC_API_KEY, which the login service does not see",
      fix: `Put the key in ${configFile} as "anthropic": {"apiKey": "…"} so the service has it too.`,
    };
  }
  return {
    id: 'apiKey',
    title: 'API key',
    status: 'ok',
    detail: inFile ? 'set in config.json' : 'set in ANTHROPIC_API_KEY',
  };
}

/** A fetch that failed before any network traffic (a URL or header fetch refuses) is no sign of being offline. */
function failedOnTheNetwork(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  // undici wraps every connection failure (refused, DNS, TLS, reset) in TypeError('fetch failed').
  return err instanceof TypeError && err.message === 'fetch failed';
}

export async function checkModelEndpoint(config: Config, doFetch: typeof fetch, timeoutMs: number): Promise<Check> {
  const configured = (config.anthropic.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  // Shown without a user name and password; fetch refuses a URL with them, so they go as a header,
  // as node:http (the model client) sends them.
  const base = withoutUrlCredentials(configured);
  const custom = Boolean(config.anthropic.baseUrl);
  const title = 'Model endpoint';
  const apiKey = config.anthropic.apiKey;
  // An error message can quote what was sent (an invalid header value): never the key.
  const said = (err: unknown) => {
    const text = withoutUrlCredentials((err as Error).message ?? String(err));
    return apiKey ? text.split(apiKey).join('<api key>') : text;
  };
  let login: string | undefined;
  let endpoint: string;
  try {
    const url = new URL(configured);
    login = basicAuthOf(url);
    url.username = '';
    url.password = '';
    endpoint = url.href.replace(/\/+$/, '');
  } catch (err) {
    return {
      id: 'model',
      title,
      status: 'fail',
      detail: `this URL cannot be used: ${base} (${said(err)})`,
      fix: 'Correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL): a user name or password in it must be percent-encoded.',
    };
  }
  try {
    const headers: Record<string, string> = { 'anthropic-version': '2023-06-01' };
    if (apiKey) headers['x-api-key'] = apiKey;
    if (login) headers.authorization = login;
    // GET /v1/models is free and tells a rejected key apart from a reachable endpoint.
    const res = await doFetch(`${endpoint}/v1/models`, {
      method: 'GET',
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if ((res.status === 401 || res.status === 403) && (apiKey || login)) {
      const what =
        apiKey && login
          ? 'the API key or the user name and password'
          : apiKey
            ? 'the API key'
            : 'the user name and password';
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `${base} rejected ${what} (HTTP ${res.status})`,
        fix: login
          ? 'Check the user name and password in anthropic.baseUrl and the key (anthropic.apiKey) in config.json.'
          : 'Check the key in config.json (anthropic.apiKey) or create a new one at https://console.anthropic.com/settings/keys.',
      };
    }
    return { id: 'model', title, status: 'ok', detail: `${base} answers (HTTP ${res.status})` };
  } catch (err) {
    // fetch refuses some ports outright (1, 6000, 6665-6669 …: its blocked-port list), before any
    // network traffic; the model client uses fetch too, so no task can reach a server there.
    if ((err as { cause?: { message?: string } }).cause?.message === 'bad port') {
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `port ${new URL(endpoint).port} of ${base} cannot be used: the model client (fetch) refuses to connect to it`,
        fix: 'Run your model server on another port (such as 8080), then correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).',
      };
    }
    if (!failedOnTheNetwork(err)) {
      return {
        id: 'model',
        title,
        status: 'warn',
        detail: custom
          ? `this URL cannot be used: ${base} (${said(err)})`
          : `the request to ${base} could not be made (${said(err)})`,
        fix: custom
          ? 'Correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).'
          : 'Check anthropic.apiKey in config.json (or ANTHROPIC_API_KEY) for stray characters such as spaces or line breaks.',
      };
    }
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { name?: string }).name ?? '';
    if (custom && code === 'ECONNREFUSED') {
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `nothing answers at ${base}`,
        fix: 'Start your model server, or correct anthropic.baseUrl in config.json.',
      };
    }
    // A server on this computer that accepts and never answers (or drops the connection): the
    // internet is not the cause. A name that does not resolve (ENOTFOUND) still may be.
    const lookupFailed = code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    if (custom && !lookupFailed && isThisComputer(new URL(endpoint).hostname)) {
      return {
        id: 'model',
        title,
        status: 'warn',
        detail: `the server at ${base} does not answer (${code || said(err)})`,
        fix: 'It runs on this computer: check that your model server is running and not stuck (or busy with another request), or correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).',
      };
    }
    return {
      id: 'model',
      title,
      status: 'unknown',
      detail: `could not reach ${base} (${code || said(err)}); this computer may be offline`,
      fix: 'Check the internet connection (and any proxy or firewall); tasks retry when the connection is back.',
    };
  }
}
