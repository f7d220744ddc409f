// Dotloop Public API v2 (`/public/v2`): bearer-token auth, the per-user rate limit, fault
// knobs, 301 for merged loops, and the read endpoints a sync needs, shaped as the published
// examples (../shared/fixtures/dotloop). Subscriptions are in subscriptions.ts.

import { Hono } from "hono";
import type { SimCore } from "./app";
import type { LoopRec, ParticipantRec } from "./data";
import { apiError, list, one } from "./http";
import { filterLoops, parseBatch, parseFilter, slice, sortLoops } from "./query";
import { type RateDecision, rateHeaders } from "./ratelimit";
import { subscriptionRoutes } from "./subscriptions";
import type { User } from "./user";

export type ApiEnv = { Variables: { user: User; clientId: string } };

const MERGED_PATH = /^\/public\/v2\/profile\/(\d+)\/loop\/(\d+)(\/.*)?$/;
const PDF = new TextEncoder().encode("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

function participantSummary(p: ParticipantRec): Record<string, unknown> {
  return {
    id: p.id,
    fullName: p.fullName,
    email: p.email,
    role: p.role,
    ...(p.phone !== undefined ? { phone: p.phone } : {}),
  };
}

function participantDetail(p: ParticipantRec): Record<string, unknown> {
  return {
    id: p.id,
    fullName: p.fullName,
    email: p.email,
    role: p.role,
    ...p.extra,
    ...(p.phone ? { phone: p.phone } : {}),
  };
}

export function apiRoutes(sim: SimCore): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.use("*", async (c, next) => {
    sim.noteOrigin(c.req.url);
    const auth = c.req.header("Authorization") ?? "";
    const now = sim.rt.now();
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const checked: ReturnType<SimCore["oauth"]["check"]> = m
      ? sim.oauth.check(m[1] as string, now)
      : { error: "Missing bearer token" };
    if ("error" in checked) {
      // Counted on the user behind an expired or revoked token, so a test can see calls made after it.
      const owner = checked.userId === undefined ? undefined : sim.users.get(checked.userId);
      if (owner) owner.stats.unauthorized++;
      return apiError(401, checked.error, { "WWW-Authenticate": `Bearer error="invalid_token"` });
    }
    const user = sim.users.get(checked.userId);
    if (!user) return apiError(401, "Unknown user", { "WWW-Authenticate": `Bearer error="invalid_token"` });
    c.set("user", user);
    c.set("clientId", checked.clientId);
    const decision: RateDecision = user.rate.take(now);
    if (!decision.allowed) {
      user.stats.rateLimited++;
      user.countStatus(429);
      return apiError(429, "Rate limit exceeded", rateHeaders(decision));
    }
    user.stats.served++;
    const f = user.faults.next();
    const stormMs = user.faults.storm(now);
    if (stormMs > 0) {
      user.stats.stormRateLimited++;
      user.countStatus(429);
      return apiError(
        429,
        "Rate limit exceeded",
        rateHeaders({ ...decision, remaining: 0, resetMs: stormMs }),
      );
    }
    const latency = user.faults.config.latencyMs ?? 0;
    if (latency > 0) await sim.rt.sleep(latency, c.req.raw.signal);
    if (f.timeout) {
      await sim.rt.sleep(user.faults.config.timeoutMs ?? 30_000, c.req.raw.signal);
      user.countStatus(504);
      return apiError(504, "Gateway timeout", rateHeaders(decision));
    }
    if (f.error) {
      user.countStatus(f.error);
      return apiError(f.error, "Upstream error", rateHeaders(decision));
    }
    const url = new URL(c.req.url);
    const mm = MERGED_PATH.exec(url.pathname);
    if (mm) {
      const survivor = user.survivorOf(Number(mm[2]));
      if (survivor) {
        user.countStatus(301);
        const location = `${url.origin}/public/v2/profile/${survivor.profileId}/loop/${survivor.toId}${mm[3] ?? ""}${url.search}`;
        return new Response(null, { status: 301, headers: { Location: location, ...rateHeaders(decision) } });
      }
    }
    await next();
    user.countStatus(c.res.status);
    for (const [k, v] of Object.entries(rateHeaders(user.rate.peek(now)))) c.res.headers.set(k, v);
  });

  const q = (url: string) => new URL(url).searchParams;

  const profileOf = (user: User, raw: string) => user.data.profiles.get(Number(raw));

  /** The loop of a profile, or the error to answer. */
  const loopOf = (user: User, pid: string, lid: string): LoopRec | Response => {
    const profile = profileOf(user, pid);
    if (!profile) return apiError(404, "Profile not found");
    const loop = user.data.loops.get(Number(lid));
    if (!loop || loop.loop.profileId !== profile.id) return apiError(404, "Loop not found");
    return loop;
  };

  app.get("/account", (c) => one(c.var.user.data.account));

  app.get("/profile", (c) => {
    const profiles = [...c.var.user.data.profiles.values()];
    return list(profiles, profiles.length);
  });

  app.get("/profile/:pid", (c) => {
    const p = profileOf(c.var.user, c.req.param("pid"));
    return p ? one(p) : apiError(404, "Profile not found");
  });

  app.get("/profile/:pid/loop", (c) => {
    const user = c.var.user;
    const p = profileOf(user, c.req.param("pid"));
    if (!p) return apiError(404, "Profile not found");
    // Loop access is limited to INDIVIDUAL profiles (seen in clients); choice: 403.
    if (p.type !== "INDIVIDUAL") return apiError(403, "Loops are available for INDIVIDUAL profiles only");
    const params = q(c.req.url);
    const batch = parseBatch(params, user.defaultBatchSize, user.maxBatchSize);
    if (typeof batch === "string") return apiError(400, batch);
    const filter = parseFilter(params.get("filter"));
    if (typeof filter === "string") return apiError(400, filter);
    const sorted = sortLoops(filterLoops(user.loopsOf(p.id), filter), params.get("sort"));
    if (typeof sorted === "string") return apiError(400, sorted);
    const withDetails = params.get("include_details") === "true";
    const page = slice(sorted, batch).map((l) => (withDetails ? { ...l.loop, details: l.details } : l.loop));
    return list(page, sorted.length);
  });

  app.get("/profile/:pid/loop/:lid", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    return l instanceof Response ? l : one(l.loop);
  });

  app.get("/profile/:pid/loop/:lid/detail", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    return l instanceof Response ? l : one(l.details);
  });

  app.get("/profile/:pid/loop/:lid/participant", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const ps = [...l.participants.values()].map(participantSummary);
    return list(ps, ps.length);
  });

  app.get("/profile/:pid/loop/:lid/participant/:id", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const p = l.participants.get(Number(c.req.param("id")));
    return p ? one(participantDetail(p)) : apiError(404, "Participant not found");
  });

  app.get("/profile/:pid/loop/:lid/folder", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    return list(
      l.folders.map((f) => f.folder),
      l.folders.length,
    );
  });

  const folderOf = (l: LoopRec, fid: string) => l.folders.find((f) => f.folder.id === Number(fid));

  app.get("/profile/:pid/loop/:lid/folder/:fid", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const f = folderOf(l, c.req.param("fid"));
    return f ? one(f.folder) : apiError(404, "Folder not found");
  });

  app.get("/profile/:pid/loop/:lid/folder/:fid/document", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const f = folderOf(l, c.req.param("fid"));
    return f ? list(f.documents, f.documents.length) : apiError(404, "Folder not found");
  });

  app.get("/profile/:pid/loop/:lid/folder/:fid/document/:did", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const d = folderOf(l, c.req.param("fid"))?.documents.find((x) => x.id === Number(c.req.param("did")));
    if (!d) return apiError(404, "Document not found");
    // Same URL, content by Accept (seen in clients).
    if ((c.req.header("Accept") ?? "").includes("application/pdf")) {
      return new Response(PDF, { headers: { "Content-Type": "application/pdf" } });
    }
    return one(d);
  });

  const tasklistOf = (l: LoopRec, id: string) => l.tasklists.find((t) => t.list.id === Number(id));

  app.get("/profile/:pid/loop/:lid/tasklist", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    return list(
      l.tasklists.map((t) => t.list),
      l.tasklists.length,
    );
  });

  app.get("/profile/:pid/loop/:lid/tasklist/:tid", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const t = tasklistOf(l, c.req.param("tid"));
    return t ? one(t.list) : apiError(404, "Task list not found");
  });

  app.get("/profile/:pid/loop/:lid/tasklist/:tid/task", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const t = tasklistOf(l, c.req.param("tid"));
    return t ? list(t.tasks, t.tasks.length) : apiError(404, "Task list not found");
  });

  app.get("/profile/:pid/loop/:lid/tasklist/:tid/task/:id", (c) => {
    const l = loopOf(c.var.user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const task = tasklistOf(l, c.req.param("tid"))?.tasks.find((t) => t.id === Number(c.req.param("id")));
    return task ? one(task) : apiError(404, "Task not found");
  });

  app.get("/profile/:pid/loop/:lid/activity", (c) => {
    const user = c.var.user;
    const l = loopOf(user, c.req.param("pid"), c.req.param("lid"));
    if (l instanceof Response) return l;
    const batch = parseBatch(q(c.req.url), user.defaultBatchSize, user.maxBatchSize);
    if (typeof batch === "string") return apiError(400, batch);
    // Newest first (choice); meta.total is -1 (published).
    const acts = [...l.activities].reverse();
    return list(slice(acts, batch), -1);
  });

  app.get("/profile/:pid/loop-template", (c) => {
    const user = c.var.user;
    const p = profileOf(user, c.req.param("pid"));
    if (!p) return apiError(404, "Profile not found");
    const ts = user.data.templates.get(p.id) ?? [];
    return list(ts, ts.length);
  });

  app.get("/profile/:pid/loop-template/:id", (c) => {
    const user = c.var.user;
    const p = profileOf(user, c.req.param("pid"));
    const t = p ? user.data.templates.get(p.id)?.find((x) => x.id === Number(c.req.param("id"))) : undefined;
    return t ? one(t) : apiError(404, "Loop template not found");
  });

  app.get("/contact", (c) => {
    const user = c.var.user;
    const batch = parseBatch(q(c.req.url), user.defaultBatchSize, user.maxBatchSize);
    if (typeof batch === "string") return apiError(400, batch);
    // Contacts in id order (choice); no filter is published for them.
    const all = [...user.data.contacts.values()].sort((a, b) => a.id - b.id);
    return list(slice(all, batch), all.length);
  });

  app.get("/contact/:id", (c) => {
    const contact = c.var.user.data.contacts.get(Number(c.req.param("id")));
    return contact ? one(contact) : apiError(404, "Contact not found");
  });

  app.delete("/contact/:id", (c) => {
    const id = Number(c.req.param("id"));
    try {
      sim.mutate(c.var.user.id, { contacts: { deleteIds: [id] } });
    } catch {
      return apiError(404, "Contact not found");
    }
    return new Response(null, { status: 204 });
  });

  app.route("/subscription", subscriptionRoutes(sim));

  app.notFound(() => apiError(404, "Not found"));
  return app;
}
