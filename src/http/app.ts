import { Hono } from "hono";
import type { Env } from "../env";
import { admin } from "./admin";
import { alerts } from "./alerts";
import { consoleApp } from "./console/routes";
import { apiDocs } from "./docs";
import { handleError, notFound } from "./errors";
import { failed } from "./failed";
import { health } from "./health";
import { rejectMalformedUrl } from "./input";
import { metrics } from "./metrics";
import { oauthCallback, oauthStart } from "./oauth";
import { operator } from "./operator";
import { runs } from "./runs";
import { webhooks } from "./webhooks";

export function createApp() {
  const app = new Hono<{ Bindings: Env }>()
    .use("*", rejectMalformedUrl)
    .route("/health", health)
    .route("/console", consoleApp)
    .route("/admin", admin)
    .route("/admin", failed)
    .route("/admin", operator)
    .route("/admin", oauthStart)
    .route("/oauth", oauthCallback)
    .route("/admin", runs)
    .route("/admin", metrics)
    .route("/admin", alerts)
    .route("/webhooks", webhooks);
  // The document is generated from the app's own route table, so it is mounted on the finished app.
  return app.route("/", apiDocs(app)).notFound(notFound).onError(handleError);
}
