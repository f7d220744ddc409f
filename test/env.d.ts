// Types the `cloudflare:test` / `cloudflare:workers` modules against this Worker's own bindings and exports.
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      /** Test-only: the tables' owner, for setup and cross-account assertions. */
      TEST_OWNER_DATABASE_URL: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "AccountSync" | "RateBudget";
    }
  }
}
