import { Hono } from "hono";
import type { Env } from "../env";
import { admin } from "./admin";
import { consoleApp } from "./console/routes";
import { apiDocs } from "./docs";
import { handleError, notFound } from "./errors";
import { failed } from "./failed";
import { health } from "./health";
import { rejectMalformedUrl } from "./input";
import { oauthCallback, oauthStart } from "./oauth";
import { operator } from "./operator";
import { webhooks } from "./webhooks";

export function createApp() {
  return new Hono<{ Bindings: Env }>()
    .use("*", rejectMalformedUrl)
    .route("/health", health)
    .route("/", apiDocs)
    .route("/console", consoleApp)
    .route("/admin", admin)
    .route("/admin", failed)
    .route("/admin", operator)
    .route("/admin", oauthStart)
    .route("/oauth", oauthCallback)
    .route("/webhooks", webhooks)
    .notFound(notFound)
    .onError(handleError);
}
