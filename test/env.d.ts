// Types the `cloudflare:test` / `cloudflare:workers` modules against this Worker's own bindings and exports.
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "AccountSync";
    }
  }
}
