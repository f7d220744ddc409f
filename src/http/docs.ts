import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import swaggerCss from "swagger-ui-dist/swagger-ui.css";
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import type { Env } from "../env";
import { ok, openApiDocument, PUBLIC, publicFile } from "./openapi";

// The UI's files are text modules (see the rules in wrangler.toml): they ship inside the Worker, no CDN, so the
// page works offline in local dev as well as deployed.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edge-etl API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

// The browser itself then refuses anything from elsewhere (scripts, styles, fonts, calls); Swagger UI sets
// inline styles and shows inline data: images.
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

// validatorUrl: null keeps the UI from sending the document to swagger.io's validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});`;

// The UI's files change only with the package version; a day's cache spares reloading 1.7 MB per visit.
const cached = { "cache-control": "public, max-age=86400" };

/** /openapi.json, generated from the routes of `app` (computed once per isolate), and the reference at /docs. */
export function apiDocs(app: Hono<{ Bindings: Env }>) {
  let document: Promise<unknown> | undefined;
  return new Hono<{ Bindings: Env }>()
    .get(
      "/openapi.json",
      describeRoute({
        tags: ["system"],
        summary: "This document (OpenAPI 3.1), generated from the routes",
        ...PUBLIC,
        responses: { "200": ok("OpenAPI 3.1 document") },
      }),
      async (c) => {
        document ??= openApiDocument(app).catch((error: unknown) => {
          document = undefined;
          throw error;
        });
        return c.json(await document);
      },
    )
    .get("/docs", publicFile("Browsable API reference (Swagger UI, served by the Worker)"), (c) =>
      c.html(PAGE, 200, { "content-security-policy": PAGE_POLICY }),
    )
    .get("/docs/swagger-ui.css", publicFile("The reference UI's stylesheet"), (c) =>
      c.body(swaggerCss, 200, { "content-type": "text/css; charset=utf-8", ...cached }),
    )
    .get("/docs/swagger-ui-bundle.js", publicFile("The reference UI's script"), (c) =>
      c.body(swaggerBundle, 200, { "content-type": "text/javascript; charset=utf-8", ...cached }),
    )
    .get("/docs/init.js", publicFile("The reference UI's start-up script, pointed at /openapi.json"), (c) =>
      c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" }),
    );
}
