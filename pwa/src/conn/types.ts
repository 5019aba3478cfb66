import type {
  Approval,
  ChangeEntry,
  ClientCommand,
  CommandType,
  Device,
  FileView,
  HostStatus,
  PushOutcome,
  Question,
  Task,
  ThreadItem,
  ThreadSummary,
} from '../../../shared/src/index.js';

export interface ResultMap {
  'threads.list': ThreadSummary[];
  'thread.get': {
    thread: ThreadSummary;
    items: ThreadItem[];
    tasks: Task[];
    approvals: Approval[];
    questions: Question[];
  };
  'thread.create': { thread: ThreadSummary; task: Task };
  'thread.send': { task: Task; item: ThreadItem };
  'task.changes': ChangeEntry[];
  'task.file': FileView;
  'status.get': HostStatus;
  'devices.list': Device[];
  'push.key': { publicKey: string; subscription?: 'none' | 'current' | 'stale'; subjectProblem?: string };
  'push.outcomes': PushOutcome[];
  'step.output': { text: string };
}
export type ResultOf<T extends CommandType> = T extends keyof ResultMap ? ResultMap[T] : unknown;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command without its id: the connection manager assigns one unless the caller brings its own. */
export type CommandInput = DistributiveOmit<ClientCommand, 'id'>;

export class CommandFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
