import { Hono } from "hono";
import type { Env } from "../env";
import { admin } from "./admin";
import { alerts } from "./alerts";
import { apiDocs } from "./docs";
import { handleError, notFound } from "./errors";
import { failed } from "./failed";
import { health } from "./health";
import { rejectMalformedUrl } from "./input";
import { metrics } from "./metrics";
import { oauthCallback, oauthStart } from "./oauth";
import { runs } from "./runs";
import { webhooks } from "./webhooks";

export function createApp() {
  return new Hono<{ Bindings: Env }>()
    .use("*", rejectMalformedUrl)
    .route("/health", health)
    .route("/", apiDocs)
    .route("/admin", admin)
    .route("/admin", failed)
    .route("/admin", oauthStart)
    .route("/oauth", oauthCallback)
    .route("/admin", runs)
    .route("/admin", metrics)
    .route("/admin", alerts)
    .route("/webhooks", webhooks)
    .notFound(notFound)
    .onError(handleError);
}
