// What one streamed update costs the phone app, in a thread of 200 messages against an empty thread,
// measured in the same run with the rounds interleaved: the real daemon in its own process, a scripted
// model streaming a Markdown answer, Chromium at phone size with a 4x CPU slowdown (CDP).
// Per update: the page's script time (CDP Performance.ScriptDuration) over the stream divided by the
// item.delta frames received; long tasks (PerformanceObserver) and the worst gap between frames
// (requestAnimationFrame) while the words stream in.
// Targets: script time per update with 200 messages <= 1.2x the empty thread's; no long task over
// 50 ms in either; worst frame gap <= 50 ms.
// BENCH_PROFILE=1 prints the functions that took the most time in each stream, and in its longest
// busy stretch (=long or =empty: only those streams; build the app with NO_MINIFY=1 first for
// readable names). BENCH_TRACE (=long, =empty or any value for both) records a Chromium trace of each
// stream and prints what the main thread did in every task over 50 ms (style, layout, paint, scripts);
// BENCH_TRACE_DIR=dir also writes each trace there.
import fs from 'node:fs';
import type { CDPSession } from 'playwright-core';
import WebSocket from 'ws';
import { type ModelServer, reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import type { Task, ThreadItem } from '../../shared/src/index.js';
import { startDaemonProcess } from './daemon-process.js';
import { CPU_SLOWDOWN, launchPhone, median, PUT_AUTH, pairedHome, throttle, withTimeout } from './pwa-browser.js';
import { report } from './stats.js';

const ROUNDS = 4;
const TASKS = 100; // x (question + answer) = 200 messages, and a tool step every other task
const TARGET_RATIO = 1.2;
const LONG_TASK_MS = 50;
const TARGET_GAP_MS = 50;

const ANSWER = (n: number) =>
  [
    `## Summary ${n}`,
    '',
    `I read the **${n} files** in \`Downloads\` and wrote the report. Here is what stood out:`,
    '',
    '- The invoices from March are missing a VAT number;',
    '- two PDFs are scans without text, so I *described* them instead;',
    '- the spreadsheet totals match the bank export.',
    '',
    '```',
    `total = ${n * 17} EUR`,
    '```',
    '',
    'Tell me if you want the report as a spreadsheet too.',
  ].join('\n');

/** The streamed answer: long enough for ~20 updates at the daemon's 250 ms delta interval. */
const STREAMED = (round: number) =>
  `${Array.from({ length: 6 }, (_, i) => ANSWER(i)).join('\n\n')}\n\nEnd of streamed answer ${round}.`;

function longThread(threadId: string): { items: ThreadItem[]; tasks: Task[] } {
  const items: ThreadItem[] = [];
  const tasks: Task[] = [];
  const t0 = Date.now() - TASKS * 60_000;
  for (let i = 0; i < TASKS; i++) {
    const taskId = `task${i}`;
    const at = t0 + i * 60_000;
    items.push({
      kind: 'user',
      id: `u${i}`,
      taskId,
      text: `Please look at folder ${i} and summarise it.`,
      createdAt: at,
    });
    if (i % 2)
      items.push({
        kind: 'tool',
        id: `tool${i}`,
        taskId,
        tool: 'read_file',
        summary: `Read notes-${i}.md`,
        state: 'completed',
        input: { path: `notes-${i}.md` },
        output: 'a few lines',
        createdAt: at + 1000,
        endedAt: at + 1200,
      });
    items.push({ kind: 'assistant', id: `a${i}`, taskId, text: ANSWER(i), createdAt: at + 2000 });
    tasks.push({
      id: taskId,
      threadId,
      state: 'done',
      messageId: `u${i}`,
      createdAt: at,
      startedAt: at,
      endedAt: at + 3000,
      resultSummary: `Summary ${i}`,
      turns: 2,
      usage: { inputTokens: 1000, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.01,
    });
  }
  return { items, tasks };
}

/** A second device that sends the messages, so the phone under test only renders. */
function driver(url: string, token: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  const waiting = new Map<string, (r: { result?: unknown; message?: string; type: string }) => void>();
  let n = 0;
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as { type: string; id?: string; result?: unknown; message?: string };
    if (f.id) waiting.get(f.id)?.(f);
  });
  const synced = new Promise<void>((resolve) =>
    ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type: string }).type === 'synced') resolve();
    }),
  );
  ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token, lastSeq: 0, protocol: 1 })));
  return {
    synced,
    async request<R>(cmd: Record<string, unknown>): Promise<R> {
      const id = `bench-command-${++n}`;
      const f = await withTimeout(
        new Promise<{ result?: unknown; message?: string; type: string }>((resolve) => {
          waiting.set(id, resolve);
          ws.send(JSON.stringify({ ...cmd, id }));
        }),
        20_000,
        String(cmd.type),
      );
      if (f.type !== 'reply') throw new Error(`${String(cmd.type)}: ${f.message}`);
      return f.result as R;
    },
    close: () => ws.close(),
  };
}

// In the page: long tasks and frame gaps, counted only while `on`. The end of a stream (the finished
// answer carrying \`until\`) is seen by the frame loop itself, checking only the last answer, and ends
// the window there: Playwright's locator polling (text of every message, in the page) would be the
// bench's own work counted as the app's, and it grows with the thread.
const INSTRUMENT = `(() => {
  const b = (window.__bench = { on: false, last: 0, maxGap: 0, longest: 0, longTasks: 0, until: '', done: undefined, from: Infinity, to: Infinity });
  // Entries arrive after their task ends (the last one after the window closed): kept by start time.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < b.from || e.startTime > b.to) continue;
      if (e.duration > ${LONG_TASK_MS}) b.longTasks++;
      b.longest = Math.max(b.longest, e.duration);
    }
  }).observe({ type: 'longtask' });
  const tick = (t) => {
    if (b.on) {
      if (b.last) b.maxGap = Math.max(b.maxGap, t - b.last);
      b.last = t;
      const answers = document.getElementsByClassName('msg-assistant');
      const a = answers[answers.length - 1];
      if (b.until && a && !a.classList.contains('streaming') && a.textContent.includes(b.until)) {
        b.on = false;
        b.to = performance.now();
        b.done?.();
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  /** The thread's own CPU time: not stretched by other processes nor by the CPU slowdown. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown>; beginData?: Record<string, unknown> };
}

/** Starts a Chromium trace of the page's main thread; the returned function stops it and gives its events. */
async function startTrace(cdp: CDPSession): Promise<() => Promise<TraceEvent[]>> {
  const events: TraceEvent[] = [];
  const onData = (e: { value: unknown[] }) => {
    events.push(...(e.value as TraceEvent[]));
  };
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'],
    },
  });
  return async () => {
    const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.end');
    await done;
    cdp.off('Tracing.dataCollected', onData);
    return events;
  };
}

/** The longest task of each traced stream by CPU time (summariseTrace): the caller reads and resets it. */
let cpuLongest: number[] = [];

/** For each main-thread task over the long-task limit: where its time went, by the self time of the
 *  events inside it (script, style, layout, paint, ...; the task's own remainder is "(other)").
 *  Each with its CPU time: a loaded machine stretches the wall time, not that. */
function summariseTrace(events: TraceEvent[]): string {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return '(no renderer main thread in the trace)';
  const onMain = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((x, y) => x.ts - y.ts || y.dur! - x.dur!);
  const isTask = (e: TraceEvent) => e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask';
  const lines: string[] = [];
  // Per frame of work (every task over 8 ms): wall and CPU time, to tell the app's cost from a busy machine's.
  let lastEnd = 0;
  const busy = onMain.filter((e) => {
    if (!isTask(e) || e.ts < lastEnd) return false;
    lastEnd = e.ts + e.dur!;
    return e.dur! > 8000;
  });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  lines.push(
    `  ${busy.length} tasks over 8 ms: wall ${(sum(busy.map((e) => e.dur!)) / 1000).toFixed(0)} ms, cpu ${(sum(busy.map((e) => e.tdur ?? 0)) / 1000).toFixed(0)} ms`,
  );
  const byCpu = busy.reduce<TraceEvent | undefined>((m, e) => ((e.tdur ?? 0) > (m?.tdur ?? 0) ? e : m), undefined);
  if (byCpu) {
    cpuLongest.push((byCpu.tdur ?? 0) / 1000);
    lines.push(
      `  longest task by CPU time: ${((byCpu.tdur ?? 0) / 1000).toFixed(0)} ms (wall ${(byCpu.dur! / 1000).toFixed(0)} ms)`,
    );
  }
  for (let i = 0; i < onMain.length; i++) {
    const t = onMain[i];
    if (!isTask(t) || t.dur! <= LONG_TASK_MS * 1000) continue;
    const end = t.ts + t.dur!;
    const self = new Map<string, number>();
    // Nested events: each one's time minus its children's is its own.
    const stack: Array<{ e: TraceEvent; key: string; child: number }> = [{ e: t, key: '(other)', child: 0 }];
    const close = (upTo: number) => {
      while (stack.length > 1 && stack[stack.length - 1].e.ts + stack[stack.length - 1].e.dur! <= upTo) {
        const top = stack.pop()!;
        self.set(top.key, (self.get(top.key) ?? 0) + top.e.dur! - top.child);
        stack[stack.length - 1].child += top.e.dur!;
      }
    };
    let j = i + 1;
    for (; j < onMain.length && onMain[j].ts < end; j++) {
      const e = onMain[j];
      if (isTask(e)) continue;
      close(e.ts);
      const d = e.args?.data ?? e.args?.beginData;
      const what = d ? String(d.functionName || d.type || '').slice(0, 30) : '';
      stack.push({ e, key: `${e.name}${what ? ` ${what}` : ''}`, child: 0 });
    }
    close(Number.POSITIVE_INFINITY);
    self.set('(other)', (self.get('(other)') ?? 0) + t.dur! - stack[0].child);
    const parts = [...self]
      .filter(([, us]) => us >= 1000)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 10);
    lines.push(
      `  task ${(t.dur! / 1000).toFixed(0)} ms (cpu ${((t.tdur ?? 0) / 1000).toFixed(0)} ms): ${parts.map(([k, us]) => `${k} ${(us / 1000).toFixed(1)}`).join(' · ')}`,
    );
    while (i + 1 < onMain.length && onMain[i + 1].ts < end) i++;
  }
  return lines.join('\n') || '  (none)';
}

interface Sample {
  perUpdateMs: number;
  updates: number;
  longest: number;
  longTasks: number;
  maxGap: number;
}

const { home, auth, long, driverToken } = await (async () => {
  let longId = '';
  let driverToken = '';
  const h = await pairedHome('errand-bench-stream-', async (store) => {
    driverToken = (await store.devices.add('bench driver', undefined)).token;
    const doc = await store.threads.create('A long thread', (d) => {
      const { items, tasks } = longThread(d.meta.id);
      d.items.push(...items);
      d.tasks.push(...tasks);
    });
    longId = doc.meta.id;
  });
  return { ...h, long: longId, driverToken };
})();

let model: ModelServer | undefined;
let daemon: Awaited<ReturnType<typeof startDaemonProcess>> | undefined;
let phone: Awaited<ReturnType<typeof launchPhone>> | undefined;
let drive: ReturnType<typeof driver> | undefined;
let ok = false;
try {
  // Each reply waits for the bench's go, so the phone is showing the thread before words arrive.
  let release: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  const nextGate = () => {
    gate = new Promise<void>((r) => (release = r));
  };
  let round = 0;
  let atGate = 0; // model requests that reached the gate
  model = await startModelServer(async () => {
    atGate++;
    await gate;
    return { ...reply(text(STREAMED(round))), chunkDelayMs: 8 };
  });
  daemon = await startDaemonProcess(home, { ANTHROPIC_API_KEY: 'sk-bench', ANTHROPIC_BASE_URL: model.url });
  drive = driver(daemon.url, driverToken);
  await withTimeout(drive.synced, 20_000, 'driver sync');

  phone = await launchPhone();
  const { page, cdp } = phone;
  await page.addInitScript(INSTRUMENT);
  await page.goto(`${daemon.url}/#`);
  await page.evaluate(`(${PUT_AUTH})(${JSON.stringify(auth)})`);
  await page.reload();
  await page.getByRole('button', { name: 'New task' }).waitFor({ timeout: 30_000 });
  await cdp.send('Performance.enable');
  await cdp.send('Network.enable');
  let deltas = 0;
  cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
    if (e.response.payloadData.includes('"item.delta"')) deltas++;
  });
  await throttle(cdp, false);

  const scriptSeconds = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ScriptDuration')!.value;

  // BENCH_PROFILE=long or =empty profiles only that kind of thread; any other value both (BENCH_TRACE alike).
  const wanted = (p: string | undefined, which: 'empty' | 'long') =>
    !!p && (p === which || (p !== 'long' && p !== 'empty'));
  const profiling = (which: 'empty' | 'long') => wanted(process.env.BENCH_PROFILE, which);
  const tracing = (which: 'empty' | 'long') => wanted(process.env.BENCH_TRACE, which);
  const tracedCpu = { empty: [] as number[], long: [] as number[] };
  const stream = async (which: 'empty' | 'long'): Promise<Sample> => {
    round++;
    const prompt = `Bench round ${round}: summarise the folder.`;
    nextGate();
    const go = release!;
    const gateBefore = atGate;
    const threadId =
      which === 'long'
        ? (await drive!.request({ type: 'thread.send', threadId: long, text: prompt }), long)
        : (await drive!.request<{ thread: { id: string } }>({ type: 'thread.create', text: prompt })).thread.id;
    await page.evaluate(`location.hash = '#thread=${threadId}'`);
    // (In the conversation: the thread's title may be the same words.)
    await page.getByRole('log', { name: 'Conversation' }).getByText(prompt).waitFor({ timeout: 60_000 });
    // The model request waits at the gate (observed on the server, not through the app's own indicator).
    const gateDeadline = Date.now() + 60_000;
    while (atGate === gateBefore) {
      if (Date.now() > gateDeadline) throw new Error(`round ${round}: no model request reached the gate`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Let the thread's first render (and, the first time, the long history) finish before measuring.
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 500)))');
    const until = `End of streamed answer ${round}.`;
    await page.evaluate(
      `Object.assign(window.__bench, { on: true, last: 0, maxGap: 0, longest: 0, longTasks: 0, until: ${JSON.stringify(until)}, from: performance.now(), to: Infinity })`,
    );
    const finished = page.evaluate('new Promise((r) => { window.__bench.done = r; })');
    const before = await scriptSeconds();
    const deltasBefore = deltas;
    if (profiling(which)) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    const trace = tracing(which) ? await startTrace(cdp) : undefined;
    go();
    await withTimeout(finished, 120_000, `round ${round}: the finished answer`);
    // The observer hears of the last task once it has ended.
    await page.evaluate('new Promise((r) => setTimeout(r, 100))');
    const b = (await page.evaluate('window.__bench')) as { maxGap: number; longest: number; longTasks: number };
    const script = (await scriptSeconds()) - before;
    if (trace) {
      const events = await trace();
      // BENCH_TRACE_DIR keeps each trace (Chrome's trace format: open it in DevTools' Performance panel).
      if (process.env.BENCH_TRACE_DIR)
        fs.writeFileSync(
          `${process.env.BENCH_TRACE_DIR}/stream-${round}-${which}.json`,
          JSON.stringify({ traceEvents: events }),
        );
      cpuLongest = [];
      console.log(`${which} thread, tasks over ${LONG_TASK_MS} ms:\n${summariseTrace(events)}`);
      tracedCpu[which].push(...cpuLongest);
    }
    if (profiling(which)) {
      const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
        profile: {
          nodes: Array<{
            id: number;
            children?: number[];
            callFrame: { functionName: string; url: string; lineNumber: number };
          }>;
          samples: number[];
          timeDeltas: number[];
        };
      };
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const name = (id: number) => {
        const f = byId.get(id)!.callFrame;
        return `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      };
      const top = (samples: number[], n: number) => {
        const self = new Map<string, number>();
        for (const i of samples) {
          const k = name(profile.samples[i]);
          self.set(k, (self.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
        }
        return [...self]
          .sort((x, y) => y[1] - x[1])
          .slice(0, n)
          .map(([k, t]) => `${(t / 1000).toFixed(1)} ${k}`)
          .join('\n');
      };
      // The whole stream, then the longest stretch without idle time (what a long task was doing).
      let longestRun: number[] = [];
      let run: number[] = [];
      let runMs = 0;
      let longestMs = 0;
      profile.samples.forEach((id, i) => {
        if (name(id).startsWith('(idle)')) {
          run = [];
          runMs = 0;
          return;
        }
        run.push(i);
        runMs += (profile.timeDeltas[i] ?? 0) / 1000;
        if (runMs > longestMs) [longestMs, longestRun] = [runMs, run.slice()];
      });
      console.log(
        `${which} thread, whole stream (self ms):\n${top(
          profile.samples.map((_, i) => i),
          20,
        )}`,
      );
      console.log(`longest busy stretch ${longestMs.toFixed(0)} ms:\n${top(longestRun, 12)}`);
      // Inclusive time (a function with all it calls, counted once however deep it recurses).
      const parent = new Map<number, number>();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const total = new Map<string, number>();
      profile.samples.forEach((id, i) => {
        const seen = new Set<string>();
        for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) seen.add(name(n));
        for (const k of seen) total.set(k, (total.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
      });
      console.log(
        `${which} thread, whole stream (inclusive ms):\n${[...total]
          .filter(([k]) => !/^\((program|idle|root|garbage collector)\)/.test(k))
          .sort((x, y) => y[1] - x[1])
          .slice(0, 30)
          .map(([k, t]) => `${(t / 1000).toFixed(1)} ${k}`)
          .join('\n')}`,
      );
    }
    const updates = deltas - deltasBefore;
    return { perUpdateMs: (script * 1000) / Math.max(1, updates), updates, ...b };
  };

  // The machine's own floor: the app open, the same instruments for 6 s, nothing arriving
  // (on a busy machine this alone can exceed the targets; printed beside them, not a target).
  const idle = async () => {
    await page.evaluate(
      `Object.assign(window.__bench, { on: true, last: 0, maxGap: 0, longest: 0, longTasks: 0, until: '', from: performance.now(), to: Infinity })`,
    );
    await new Promise((r) => setTimeout(r, 6000));
    await page.evaluate('Object.assign(window.__bench, { on: false, to: performance.now() })');
    await page.evaluate('new Promise((r) => setTimeout(r, 100))');
    return (await page.evaluate('window.__bench')) as { maxGap: number; longest: number };
  };
  const idleBefore = await idle();
  const empty: Sample[] = [];
  const full: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so a busy machine's noise falls on both alike.
    if (r % 2) {
      full.push(await stream('long'));
      empty.push(await stream('empty'));
    } else {
      empty.push(await stream('empty'));
      full.push(await stream('long'));
    }
    const e = empty[empty.length - 1];
    const f = full[full.length - 1];
    console.log(
      `round ${r + 1}: empty ${e.perUpdateMs.toFixed(1)} ms/update (${e.updates} updates, gap ${e.maxGap.toFixed(0)} ms, longest task ${e.longest.toFixed(0)} ms) · ` +
        `200 messages ${f.perUpdateMs.toFixed(1)} ms/update (${f.updates} updates, gap ${f.maxGap.toFixed(0)} ms, longest task ${f.longest.toFixed(0)} ms)`,
    );
  }
  const emptyMs = median(empty.map((s) => s.perUpdateMs));
  const fullMs = median(full.map((s) => s.perUpdateMs));
  const worstGap = (xs: Sample[]) => Math.max(...xs.map((s) => s.maxGap));
  const longest = (xs: Sample[]) => Math.max(0, ...xs.map((s) => s.longest));
  const idleAfter = await idle();
  console.log(`CPU ${CPU_SLOWDOWN}x slower, ${ROUNDS} streams each, medians`);
  console.log(
    `idle page (nothing streaming, 6 s before / after): worst frame gap ${idleBefore.maxGap.toFixed(0)} / ${idleAfter.maxGap.toFixed(0)} ms, ` +
      `longest task ${idleBefore.longest.toFixed(0)} / ${idleAfter.longest.toFixed(0)} ms`,
  );
  if (tracedCpu.long.length || tracedCpu.empty.length)
    console.log(
      `traced: longest task by CPU time, 200 messages / empty: ${Math.max(0, ...tracedCpu.long).toFixed(0)} / ${Math.max(0, ...tracedCpu.empty).toFixed(0)} ms ` +
        '(includes the slowdown; a loaded machine stretches wall time, not this; tracing adds its own cost)',
    );
  const results = [
    report(
      'script time per streamed update, 200 messages vs empty thread',
      `${fullMs.toFixed(1)} ms vs ${emptyMs.toFixed(1)} ms (${(fullMs / emptyMs).toFixed(2)}x)`,
      fullMs <= emptyMs * TARGET_RATIO,
      `<= ${TARGET_RATIO}x`,
    ),
    report(
      'longest task while streaming, 200 messages / empty',
      `${longest(full).toFixed(0)} ms / ${longest(empty).toFixed(0)} ms`,
      longest(full) <= LONG_TASK_MS && longest(empty) <= LONG_TASK_MS,
      `no task over ${LONG_TASK_MS} ms`,
    ),
    report(
      'worst frame gap while streaming, 200 messages / empty',
      `${worstGap(full).toFixed(0)} ms / ${worstGap(empty).toFixed(0)} ms`,
      worstGap(full) <= TARGET_GAP_MS && worstGap(empty) <= TARGET_GAP_MS,
      `<= ${TARGET_GAP_MS} ms`,
    ),
  ];
  ok = results.every(Boolean);
} finally {
  drive?.close();
  await phone?.close();
  await daemon?.stop();
  await model?.close();
  fs.rmSync(home, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
