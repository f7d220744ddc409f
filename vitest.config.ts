import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Workers-runtime tests: the real Worker, Durable Object and queue consumer in workerd, against a real
// Postgres started by the global setup and reached through the Neon driver.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          DATABASE_URL: inject("databaseUrl"),
          SYSTEM_DATABASE_URL: inject("systemDatabaseUrl"),
          TEST_OWNER_DATABASE_URL: inject("ownerDatabaseUrl"),
          DB_WS_PROXY: inject("wsProxy"),
          SIMULATOR_URL: inject("simulatorUrl"),
          ADMIN_TOKEN: "test-admin-token",
          CREDENTIALS_KEY: "test1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
          SYNC_PAGES_PER_STEP: "5",
          OAUTH_STATE_SECRET: "test-oauth-state-secret",
        },
      },
    })),
  ],
  test: {
    include: ["test/workerd/**/*.test.ts"],
    globalSetup: ["test/setup/workerd-global.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
