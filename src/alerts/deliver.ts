import type { Firing } from "./rules";
import { standardWebhookHeaders } from "./sign";

export type DeliveryDeps = {
  url: string;
  secret: string;
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  attempts: number;
  /** Per attempt. */
  timeoutMs?: number;
};

export type DeliveryResult = { ok: true; attempts: number } | { ok: false; attempts: number; error: string };

/** Slack-compatible JSON (`text`, `blocks`) with the alert's structured fields beside them. */
export function alertPayload(f: Firing, firingSince: string): Record<string, unknown> {
  const icon = f.severity === "critical" ? ":rotating_light:" : ":warning:";
  const text = `${icon} [${f.severity}] ${f.rule}: ${f.summary}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text } },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `account ${f.accountId} · firing since ${firingSince}` }],
      },
    ],
    alert: {
      key: f.key,
      rule: f.rule,
      severity: f.severity,
      subject: f.subject,
      accountId: f.accountId,
      connectionId: f.connectionId,
      provider: f.provider,
      value: f.value,
      threshold: f.threshold,
      summary: f.summary,
      firingSince,
    },
  };
}

/**
 * POSTs one alert, signed, with at most `attempts` tries (exponential pause between them); a 2xx ends it.
 * The error names only the status or the error's class: a receiver's body or URL never reaches logs or rows.
 */
export async function deliverAlert(
  deps: DeliveryDeps,
  id: string,
  payload: unknown,
): Promise<DeliveryResult> {
  const body = JSON.stringify(payload);
  let error = "not attempted";
  for (let attempt = 1; attempt <= deps.attempts; attempt++) {
    // Signed per attempt: the timestamp must be fresh for the receiver's tolerance; the id stays (dedupe).
    const headers = await standardWebhookHeaders(deps.secret, id, Math.floor(deps.now() / 1000), body);
    try {
      const res = await deps.fetch(deps.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
      });
      await res.body?.cancel().catch(() => {});
      if (res.ok) return { ok: true, attempts: attempt };
      error = `HTTP ${res.status}`;
    } catch (e) {
      error = e instanceof Error ? e.name : "fetch failed";
    }
    if (attempt < deps.attempts) await deps.sleep(500 * 2 ** (attempt - 1));
  }
  return { ok: false, attempts: deps.attempts, error };
}
