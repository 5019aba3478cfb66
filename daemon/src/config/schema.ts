// The configuration file (config.json in the home folder), validated on load.
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

export const DEFAULT_PORT = 7345;
export const DEFAULT_MODEL = 'claude-sonnet-4-6';

const PolicyDecision = z.enum(['allow', 'ask', 'deny']);

export const PolicyRule = z
  .object({
    /** Tool name, or a glob over tool names: "shell", "fs_*", "github__*". */
    tool: z.string().min(1),
    /** For shell: a command prefix ("git status"); for file tools: a glob over the path. */
    match: z.string().optional(),
    decision: PolicyDecision,
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRule>;

export const ConnectorConfig = z.discriminatedUnion('transport', [
  z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _, up to 32'),
      transport: z.literal('stdio'),
      /**
       * A program name looked up on PATH, or an absolute path. The server runs in the home folder
       * (connectors/connector.ts connectorCwd), so a relative path in `args` is taken from there;
       * `errand connectors add` stores paths to existing files as absolute paths.
       */
      command: z
        .string()
        .min(1)
        .refine(
          (c) => !c.includes('/') || path.isAbsolute(c),
          'a program path must be absolute (like /home/you/proj/server); a relative one would depend on the folder Errand was started from. Or give a program name found on PATH.',
        ),
      args: z.array(z.string()).default([]),
      /** Names of secrets (kept in secrets.json) passed to the server as environment variables. */
      env: z.record(z.string(), z.string()).default({}),
      enabled: z.boolean().default(true),
      /** Why `errand connectors add` kept it disabled (its first launch failed). */
      disabledReason: z.string().max(300).optional(),
      readOnly: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _, up to 32'),
      transport: z.literal('http'),
      url: z.string().url(),
      headers: z.record(z.string(), z.string()).default({}),
      enabled: z.boolean().default(true),
      disabledReason: z.string().max(300).optional(),
      readOnly: z.boolean().default(false),
    })
    .strict(),
]);
export type ConnectorConfig = z.infer<typeof ConnectorConfig>;

/**
 * 0.0.0.0 or :: in any spelling (::0, 0:0:0:0:0:0:0:0, ::0.0.0.0, ::ffff:0.0.0.0): the address
 * meaning every address. An IPv6 literal is compared in its normal form, as a URL writes it.
 */
const isUnspecified = (b: string) => {
  if (isIP(b) === 4) return b.split('.').every((x) => Number(x) === 0);
  if (isIP(b) !== 6) return false;
  return ['[::]', '[::ffff:0:0]'].includes(new URL(`http://[${b}]`).hostname);
};

export const ConfigSchema = z
  .object({
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
    /** An address of this machine to listen on: an IP literal (a name would be looked up at every start). */
    bind: z
      .string()
      .refine(
        (b) => isIP(b) !== 0 || b === 'localhost',
        'must be an IP address of this computer (like 127.0.0.1 or ::1) or localhost',
      )
      // Every interface, while the Host check still answers this computer only: a phone would be
      // refused with nothing saying why. LAN mode is the way to be reached from the network.
      .refine(
        (b) => !isUnspecified(b),
        'must be one address of this computer, not every address (0.0.0.0 or ::): to reach Errand from your network, run `errand expose lan` (or `errand expose tailscale` for HTTPS)',
      )
      .default('127.0.0.1'),
    /** The https origin the phone uses, when a reverse proxy or Tailscale Serve fronts the daemon. */
    publicUrl: z
      .string()
      .url('must be an https:// URL, like https://desk.example.ts.net')
      .refine((u) => u.startsWith('https://'), 'must be an https:// URL')
      // It is shown (QR codes, status, expose): a login in it would be shown with it, and a phone's
      // browser does not send one from an address anyway.
      .refine((u) => {
        const url = URL.canParse(u) ? new URL(u) : undefined;
        return !url || (url.username === '' && url.password === '');
      }, 'must not contain a user name or password (the address the phone opens is shown in QR codes and status)')
      .optional(),
    /** Bind a LAN address over plain HTTP (degraded: no service worker, push or install). */
    lan: z.boolean().default(false),
    /** Extra host names the daemon answers to (beyond localhost, 127.0.0.1 and publicUrl's host). */
    allowedHosts: z.array(z.string()).default([]),
    /** The name the phone shows; empty would leave the phone nothing to show. */
    hostName: z
      .string()
      .refine((n) => n.trim() !== '', "must not be empty: give a name, or remove it to use the computer's name")
      .optional(),
    anthropic: z
      .object({
        apiKey: z.string().min(1).optional(),
        /** The model client speaks HTTP: another scheme (file:, ftp:) could never answer. */
        baseUrl: z
          .string()
          .url('must be a URL, like https://api.anthropic.com or http://127.0.0.1:8080')
          .refine(
            (u) => /^https?:\/\//i.test(u),
            'must be an http:// or https:// URL, like https://api.anthropic.com or http://127.0.0.1:8080',
          )
          .optional(),
        model: z.string().min(1).default(DEFAULT_MODEL),
        maxTokens: z.number().int().min(256).max(128_000).default(8192),
        contextTokens: z.number().int().min(8_000).default(180_000),
        /** Extended thinking; the budget is taken from maxTokens (at most maxTokens - 1024). */
        thinking: z
          .object({
            enabled: z.boolean().default(true),
            budgetTokens: z.number().int().min(1024).max(128_000).default(4096),
          })
          .strict()
          .default({ enabled: true, budgetTokens: 4096 }),
        /** The API's context management (clears old tool uses); 'auto': on at the Anthropic API, off at another baseUrl. */
        contextManagement: z.enum(['auto', 'on', 'off']).default('auto'),
      })
      .strict()
      .default({
        model: DEFAULT_MODEL,
        maxTokens: 8192,
        contextTokens: 180_000,
        thinking: { enabled: true, budgetTokens: 4096 },
        contextManagement: 'auto',
      }),
    /** The memory tool: notes the agent keeps across threads (home/memory, outside the allowed roots). */
    memory: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    agent: z
      .object({
        maxParallelTasks: z.number().int().min(1).max(32).default(3),
        autoResume: z.boolean().default(true),
        maxTurns: z.number().int().min(1).max(1000).default(40),
        maxOutputTokens: z.number().int().min(1).default(200_000),
        maxWallMinutes: z
          .number()
          .min(0.01)
          .max(24 * 60)
          .default(60),
        /** Where a task pauses and asks whether to go on; null: no limit per task. */
        maxCostUsd: z.number().min(0).nullable().default(5),
        retryWindowSeconds: z.number().min(0).max(3600).default(120),
      })
      .strict()
      .default({
        maxParallelTasks: 3,
        autoResume: true,
        maxTurns: 40,
        maxOutputTokens: 200_000,
        maxWallMinutes: 60,
        maxCostUsd: 5,
        retryWindowSeconds: 120,
      }),
    /** The API's web search and web fetch tools (run at the API; results are untrusted). */
    web: z
      .object({
        search: z.boolean().default(true),
        fetch: z.boolean().default(true),
        /** Only these domains (the API takes either this or blockedDomains). */
        allowedDomains: z.array(z.string().min(1).max(253)).max(100).default([]),
        blockedDomains: z.array(z.string().min(1).max(253)).max(100).default([]),
        /** Uses per task, of search and of fetch each. */
        maxUsesPerTask: z.number().int().min(1).max(100).default(10),
      })
      .strict()
      .default({ search: true, fetch: true, allowedDomains: [], blockedDomains: [], maxUsesPerTask: 10 }),
    /** Folders the agent may work in. The workspace folder in the home folder is always first. */
    roots: z
      .array(
        z
          .string()
          .min(1)
          // A relative root would mean a different folder depending on where Errand was started.
          .refine((p) => path.isAbsolute(p), {
            message: 'must hold absolute paths (like /home/you/Documents); use `errand allow <folder>` to add one',
          }),
      )
      .default([]),
    approvals: z
      .object({
        expireMinutes: z
          .number()
          .min(0.05)
          .max(7 * 24 * 60)
          .default(30),
      })
      .strict()
      .default({ expireMinutes: 30 }),
    policy: z
      .object({ rules: z.array(PolicyRule).default([]) })
      .strict()
      .default({ rules: [] }),
    shell: z
      .object({
        timeoutSeconds: z.number().min(1).max(3600).default(120),
        maxOutputBytes: z.number().int().min(1024).max(10_000_000).default(64_000),
        sandbox: z.enum(['auto', 'off']).default('auto'),
        /** Memory each process of a command may hold (RLIMIT_DATA), in MB. */
        maxMemoryMB: z.number().int().min(64).max(1_048_576).default(4096),
        /** Processes and threads a command may run at once (RLIMIT_NPROC; watched for root). */
        maxProcesses: z.number().int().min(8).max(1_000_000).default(4096),
      })
      .strict()
      .default({ timeoutSeconds: 120, maxOutputBytes: 64_000, sandbox: 'auto', maxMemoryMB: 4096, maxProcesses: 4096 }),
    connectors: z.array(ConnectorConfig).default([]),
    push: z
      .object({
        /** VAPID contact; when absent, the https publicUrl (push/subject.ts). */
        subject: z
          .string()
          .regex(/^(mailto:|https:)/, 'must start with mailto: or https:')
          .optional(),
        /** Lock-screen text: 'private' shows no command, model text or file text; 'full' does. */
        previews: z.enum(['private', 'full']).default('private'),
        /** An approval or question no device confirmed within this goes on: other devices, then the fallback. */
        escalateAfterMinutes: z.number().positive().max(1440).default(2),
        /** Where an unconfirmed approval or question goes last: an ntfy topic URL or a webhook (push/fallback.ts). */
        fallback: z
          .object({
            type: z.enum(['ntfy', 'webhook']),
            url: z
              .string()
              .url()
              .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ previews: 'private', escalateAfterMinutes: 2 }),
    /** Spending caps: at one, new tasks do not start until it is raised (or the day or month turns). */
    spend: z
      .object({
        dailyUsd: z.number().positive().optional(),
        monthlyUsd: z.number().positive().optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
