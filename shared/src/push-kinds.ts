// What a push can be about, defined once for the daemon (payloads, push.json) and the service
// worker (which shows an unknown kind as a generic notification). Free of schema code: the worker
// and the app's first load stay light.
export const PUSH_KINDS = [
  'task.done',
  'task.failed',
  'task.interrupted',
  'approval',
  'question',
  'schedule.missed',
  'test',
] as const;
export type PushKind = (typeof PUSH_KINDS)[number];
