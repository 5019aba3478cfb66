// The thread notices about web fetch in a thread that read untrusted content. The daemon adds them
// (a `notice` item of the task); the app knows them by their text: on the first it draws the Allow
// control, and the second says the person gave it. No dependencies: the PWA imports this file directly.

/** A task's request had web fetch withdrawn: said once per task, when it first happens. */
export const FETCH_WITHDRAWN_NOTICE =
  'Web fetch is off for this task: this conversation read untrusted content (web pages, files or tool output), and fetching a page can send what it read to a site.';

/** The person allowed web fetch for a task that was still going (task.allowWebFetch). */
export const FETCH_ALLOWED_NOTICE = 'Reading web pages is allowed for this task.';

/** The message of the task that goes on when the person allowed web fetch on a task that had ended. */
export const FETCH_ALLOWED_GO_ON = 'Go on. Reading web pages is allowed for this task.';
