// Entities that travel between daemon and clients. Defined once, as zod schemas with inferred types.
import { z } from 'zod';
import { TASK_STATES } from '../task-states.js';

export const Id = z.string().min(1).max(128);
export const Timestamp = z.number().int().nonnegative(); // ms since epoch

export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;

export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  /** Web searches the API ran for the task (server tool; billed per search). */
  webSearches: z.number().int().nonnegative().optional(),
  /** Web pages the API fetched for the task (server tool; billed as tokens only). */
  webFetches: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof Usage>;

export const Task = z.object({
  id: Id,
  threadId: Id,
  state: TaskState,
  /** The user message that started this task. */
  messageId: Id,
  createdAt: Timestamp,
  startedAt: Timestamp.optional(),
  endedAt: Timestamp.optional(),
  /** Why the task ended as failed / cancelled / interrupted, in words a person understands. */
  reason: z.string().optional(),
  /** First line of the result, for lists and notifications. */
  resultSummary: z.string().optional(),
  turns: z.number().int().nonnegative(),
  usage: Usage,
  costUsd: z.number().nonnegative(),
  model: z.string().optional(),
  /** Files this task created or changed (paths relative to a root, for display). */
  changedFiles: z.array(z.string()).optional(),
});
export type Task = z.infer<typeof Task>;

export const ThreadState = z.enum(['active', 'archived', 'deleted']);
export type ThreadState = z.infer<typeof ThreadState>;

export const ThreadSummary = z.object({
  id: Id,
  title: z.string(),
  state: ThreadState,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastLine: z.string(),
  lastTaskId: Id.optional(),
  lastTaskState: TaskState.optional(),
  /** The most urgent task state in the thread (see mostUrgentState): what the list and header show. */
  urgentState: TaskState.optional(),
});
export type ThreadSummary = z.infer<typeof ThreadSummary>;

export const Attachment = z.object({
  id: Id,
  name: z.string(),
  size: z.number().int().nonnegative(),
  mediaType: z.string(),
  /** Where the file landed on the host, relative to the workspace root. */
  path: z.string().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

export const ToolStepState = z.enum(['pending', 'running', 'completed', 'error', 'denied', 'unknown']);
export type ToolStepState = z.infer<typeof ToolStepState>;

/** One item of a thread's visible history. */
export const ThreadItem = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('user'),
    id: Id,
    taskId: Id,
    text: z.string(),
    attachments: z.array(Attachment).optional(),
    createdAt: Timestamp,
  }),
  z.object({
    kind: z.literal('assistant'),
    id: Id,
    taskId: Id,
    text: z.string(),
    createdAt: Timestamp,
    /** Web pages the answer cites (web search / fetch), shown under it. */
    sources: z
      .array(z.object({ title: z.string().max(300), url: z.string().max(2000) }))
      .max(20)
      .optional(),
  }),
  z.object({
    kind: z.literal('tool'),
    id: Id, // the model's tool_use id
    taskId: Id,
    tool: z.string(),
    summary: z.string(),
    state: ToolStepState,
    input: z.unknown(),
    output: z.string().optional(),
    /** Set when `output` is only a preview of a longer output: fetch the whole with `step.output`. */
    outputBlob: z.object({ id: z.string().regex(/^[a-f0-9]{64}$/), bytes: z.number().int().nonnegative() }).optional(),
    createdAt: Timestamp,
    endedAt: Timestamp.optional(),
  }),
  /** The model thought before acting: shown folded ("Thought for 12 s"), the summary inside. */
  z.object({
    kind: z.literal('thought'),
    id: Id,
    taskId: Id,
    /** The thinking summary the API returned (empty when the API redacted it, `redacted`, or sent no summary). */
    text: z.string().max(20_000),
    redacted: z.boolean().optional(),
    /** How long the thinking streamed, in ms. */
    ms: z.number().int().nonnegative(),
    createdAt: Timestamp,
  }),
  z.object({
    kind: z.literal('notice'),
    id: Id,
    taskId: Id.optional(),
    text: z.string(),
    /** Only news while its task runs (a retry in progress): not shown once the task has ended. */
    transient: z.boolean().optional(),
    createdAt: Timestamp,
  }),
]);
export type ThreadItem = z.infer<typeof ThreadItem>;

export const ApprovalState = z.enum(['pending', 'approved', 'denied', 'expired']);
export const Approval = z.object({
  id: Id,
  taskId: Id,
  threadId: Id,
  tool: z.string(),
  /** A few words, for notifications: "Run python make_chart.py". */
  summary: z.string(),
  /** The exact action: argv, cwd, resolved paths, connector and arguments. */
  action: z.record(z.string(), z.unknown()),
  /** sha256 of the canonical action; a decision must name it. */
  hash: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  state: ApprovalState,
  decidedBy: z.string().optional(),
  /** Denied with words for the agent ("no, only list them"): what the person typed instead. */
  note: z.string().optional(),
});
export type Approval = z.infer<typeof Approval>;

export const Question = z.object({
  id: Id,
  taskId: Id,
  threadId: Id,
  text: z.string(),
  createdAt: Timestamp,
});
export type Question = z.infer<typeof Question>;

export const Device = z.object({
  id: Id,
  name: z.string(),
  pairedAt: Timestamp,
  lastSeenAt: Timestamp.optional(),
  lastAddress: z.string().optional(),
  online: z.boolean().optional(),
});
export type Device = z.infer<typeof Device>;

export const ConnectorStatus = z.object({
  name: z.string(),
  transport: z.enum(['stdio', 'http']),
  status: z.enum(['connected', 'starting', 'failed', 'disabled']),
  reason: z.string().optional(),
  tools: z.number().int().nonnegative(),
  /** Tools disabled because their description changed since the user accepted them. */
  changedTools: z.array(z.string()).optional(),
});
export type ConnectorStatus = z.infer<typeof ConnectorStatus>;

export const HostStatus = z.object({
  name: z.string(),
  version: z.string(),
  os: z.string(),
  startedAt: Timestamp,
  origins: z.array(z.string()),
  roots: z.array(z.object({ path: z.string(), exists: z.boolean() })),
  connectors: z.array(ConnectorStatus),
  sandbox: z.object({ enabled: z.boolean(), reason: z.string().optional() }),
  apiKeyConfigured: z.boolean(),
  model: z.string(),
  runningTasks: z.number().int().nonnegative(),
  queuedTasks: z.number().int().nonnegative(),
  keepAwake: z.boolean(),
  /** The API's web tools: on or off, and whether the model endpoint refused them (then off for it). */
  web: z.object({ search: z.boolean(), fetch: z.boolean(), refused: z.boolean().optional() }).optional(),
  /** Spend today and this month (host time zone), the caps, and why new tasks do not start (a cap reached). */
  spend: z
    .object({
      todayUsd: z.number().nonnegative(),
      monthUsd: z.number().nonnegative(),
      dailyCapUsd: z.number().positive().optional(),
      monthlyCapUsd: z.number().positive().optional(),
      /** agent.maxCostUsd: the limit at which a task pauses and asks (absent: none). */
      perTaskUsd: z.number().nonnegative().optional(),
      blocked: z.string().optional(),
      /** What each schedule's runs have cost (the 20 that cost most). */
      schedules: z
        .array(z.object({ id: Id, title: z.string(), spentUsd: z.number().nonnegative() }))
        .max(20)
        .optional(),
    })
    .optional(),
});
export type HostStatus = z.infer<typeof HostStatus>;

/** A push's id: 128 random bits, sent to the device only inside the encrypted push (its receipt proves it). */
export const PushId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

/**
 * One step of one push to one device (or to the fallback channel): `accepted` by the push service
 * (older records say `sent`), `delivered` (the service worker showed it), `opened` (tapped), or
 * `suppressed` (the device showed that thread), `failed` (with the reason), `removed` (subscription
 * gone), `escalated` (nobody confirmed in time: sent on to other devices or the fallback channel).
 */
export const PushOutcome = z.object({
  /** Absent for the fallback channel. */
  deviceId: Id.optional(),
  /** The fallback channel this step went through (ntfy or webhook), instead of a device. */
  channel: z.enum(['ntfy', 'webhook']).optional(),
  /**
   * The push's id: the proof a receipt holds. Kept in the daemon's store and shown only on the local
   * control channel (`errand push outcomes`); never sent to a device (events and replies carry `ref`).
   */
  pushId: PushId.optional(),
  /** Names the push without proving it (a one-way hash of its id): what devices see to group its steps. */
  ref: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .optional(),
  at: Timestamp,
  kind: z.string(),
  threadId: Id.optional(),
  /** `retrying`: not sent yet, another attempt follows (a 429's Retry-After, a backoff); `failed` is for good. */
  result: z.enum([
    'sent',
    'accepted',
    'delivered',
    'opened',
    'suppressed',
    'retrying',
    'failed',
    'removed',
    'escalated',
  ]),
  detail: z.string().optional(),
  status: z.number().int().optional(),
});
export type PushOutcome = z.infer<typeof PushOutcome>;

/** What the service worker posts to /api/push/receipt: this push was shown (`delivered`) or tapped (`opened`). */
export const PushReceipt = z
  .object({ pushId: PushId, state: z.enum(['delivered', 'opened']), at: Timestamp.optional() })
  .strict();
export type PushReceipt = z.infer<typeof PushReceipt>;

export const ChangeEntry = z.object({
  id: Id,
  taskId: Id,
  op: z.enum(['create', 'write', 'edit', 'mkdir', 'move', 'trash']),
  path: z.string(),
  toPath: z.string().optional(),
  at: Timestamp,
  undone: z.boolean().optional(),
});
export type ChangeEntry = z.infer<typeof ChangeEntry>;

export const AuditEntry = z.object({
  at: Timestamp,
  taskId: Id,
  tool: z.string(),
  args: z.unknown(),
  decision: z.enum(['allow', 'ask', 'deny']),
  approvedBy: z.string().optional(),
  /** The tool call: a call's "started" entry and its outcome entry share it. */
  callId: z.string().optional(),
  outcome: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** A file shown on the phone, already converted by the host into something safe to render. */
export const FileView = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), name: z.string(), text: z.string(), truncated: z.boolean() }),
  z.object({ kind: z.literal('markdown'), name: z.string(), text: z.string(), truncated: z.boolean() }),
  z.object({
    kind: z.literal('table'),
    name: z.string(),
    sheets: z.array(z.object({ name: z.string(), rows: z.array(z.array(z.string())), truncated: z.boolean() })),
  }),
  z.object({ kind: z.literal('image'), name: z.string(), mediaType: z.string(), dataBase64: z.string() }),
  z.object({ kind: z.literal('binary'), name: z.string(), size: z.number().int().nonnegative() }),
]);
export type FileView = z.infer<typeof FileView>;
