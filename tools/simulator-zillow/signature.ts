// The simulator's own signing (contract.ts WEBHOOK), written from the contract, not imported from the
// connector, so the facts test can prove either wrong.

import { WEBHOOK } from "./contract";

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const enc = new TextEncoder();

export async function webhookKey(clientId: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(`${WEBHOOK.keyPrefix}${clientId}`)));
}

export async function signWebhook(clientId: string, t: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(await webhookKey(clientId)),
    { name: "HMAC", hash: WEBHOOK.algorithm },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", key, enc.encode(`${t}.${body}`));
  return `t=${t},v1=${hex(sig)}`;
}
