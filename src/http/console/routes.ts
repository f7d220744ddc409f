import { Hono } from "hono";
import type { Env } from "../../env";
import { publicFile } from "../openapi";
import { CONSOLE_JS } from "./client";
import { CONSOLE_CSS, CONSOLE_HTML } from "./page";

/**
 * The operator console: three static texts bundled into the Worker. Only this origin's script and styles may
 * load or be called (no inline script, no third party), and the page may not be framed.
 */
const SECURITY = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const serve = (body: string, type: string) => () =>
  new Response(body, { headers: { ...SECURITY, "content-type": `${type}; charset=utf-8` } });

export const consoleApp = new Hono<{ Bindings: Env }>()
  .get(
    "/",
    publicFile("The operator console (sign in with the admin token or an account key)", "console"),
    serve(CONSOLE_HTML, "text/html"),
  )
  .get("/app.js", publicFile("The console's script", "console"), serve(CONSOLE_JS, "text/javascript"))
  .get("/app.css", publicFile("The console's stylesheet", "console"), serve(CONSOLE_CSS, "text/css"));
