import { defineConfig } from 'vitest/config';

// Tests run real servers, real child processes and a real browser; two cores is the machine,
// so files run two at a time and each test gets generous but bounded time.
export default defineConfig({
  test: {
    include: ['daemon/test/**/*.test.ts', 'pwa/test/**/*.test.ts', 'shared/test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a condition to hold (never to show something did not happen); its 1 s
    // default is too short on a busy machine (a push reaching the service worker took longer).
    expect: { poll: { timeout: 10_000 } },
    maxWorkers: 2,
    pool: 'forks',
    // Removes every errand-* temp folder a test file made, when its tests are done.
    setupFiles: ['daemon/test/helpers/temp-cleanup.ts'],
  },
});
