import { defineConfig } from "vitest/config";

const shared = {
  // Property tests and database tests do real work; a generous per-test bound keeps CI honest
  // without flaking on a loaded 2-core machine.
  setupFiles: ["test/setup.ts"],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // expect.poll waits for a condition, not for a deadline: its default of 1 s was a timing
  // threshold that a worker thread's warm-up (0.7–0.85 s here) could cross under load.
  expect: { poll: { timeout: 60_000, interval: 20 } },
};

/** The node's end-to-end suites, which run once per store. */
const NODE_E2E = ["packages/node/test/**/*.e2e.test.ts", "packages/node/test/api.fuzz.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "all",
          include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
        },
      },
      // The same suites with the whole node (ledger and node tables) on PostgreSQL; without
      // DPN_TEST_PG_URL there is no server to run them on, and the project is left out.
      ...(process.env.DPN_TEST_PG_URL === undefined
        ? []
        : [
            {
              test: {
                ...shared,
                name: "node-postgres",
                include: NODE_E2E,
                env: { DPN_TEST_STORE: "postgres" },
              },
            },
          ]),
    ],
  },
});
