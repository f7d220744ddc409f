import {
  dotloopWebhookScheme,
  signDotloop,
  signedText,
  verifyDotloopSignature,
} from "../../src/connectors/dotloop/signature";
import { signFub, verifyFub } from "../../src/connectors/fub/signature";
import {
  hmacHex,
  signStandardWebhook,
  timingSafeEqual,
  verifyStandardWebhook,
} from "../../src/core/signatures";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const enc = new TextEncoder();

// Published test vector from the Standard Webhooks reference libraries.
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TS = 1614265330;
const SW_BODY = '{"test": 2432232314}';
const SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

function swVerify(over: Partial<Parameters<typeof verifyStandardWebhook>[0]> = {}) {
  return verifyStandardWebhook({
    secrets: [SW_SECRET],
    id: SW_ID,
    timestamp: String(SW_TS),
    signature: SW_SIG,
    rawBody: enc.encode(SW_BODY),
    nowSec: SW_TS,
    ...over,
  });
}

test("hmacHex matches RFC 4231 case 2 (SHA-256) and RFC 2202 case 2 (SHA-1)", async () => {
  assertEqual(
    await hmacHex("SHA-256", "Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assertEqual(
    await hmacHex("SHA-1", "Jefe", "what do ya want for nothing?"),
    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  );
});

test("timingSafeEqual compares content and length", () => {
  assertTrue(timingSafeEqual("abc", "abc"));
  assertTrue(!timingSafeEqual("abc", "abd"));
  assertTrue(!timingSafeEqual("abc", "abcd"));
  assertTrue(!timingSafeEqual("", "a"));
  assertTrue(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
});

test("standard webhook: signs the published test vector", async () => {
  assertEqual(await signStandardWebhook(SW_SECRET, SW_ID, SW_TS, SW_BODY), SW_SIG);
});

test("standard webhook: verifies the published test vector", async () => {
  assertDeepEqual(await swVerify(), { ok: true });
});

test("standard webhook: re-serialized JSON body fails", async () => {
  const reserialized = JSON.stringify(JSON.parse(SW_BODY));
  assertTrue(reserialized !== SW_BODY);
  assertDeepEqual(await swVerify({ rawBody: enc.encode(reserialized) }), {
    ok: false,
    reason: "bad_signature",
  });
});

test("standard webhook: timestamps beyond ±5 minutes are stale", async () => {
  assertDeepEqual(await swVerify({ nowSec: SW_TS + 300 }), { ok: true });
  assertDeepEqual(await swVerify({ nowSec: SW_TS - 300 }), { ok: true });
  assertDeepEqual(await swVerify({ nowSec: SW_TS + 301 }), { ok: false, reason: "stale_timestamp" });
  assertDeepEqual(await swVerify({ nowSec: SW_TS - 301 }), { ok: false, reason: "stale_timestamp" });
  assertDeepEqual(await swVerify({ timestamp: "not-a-number" }), { ok: false, reason: "stale_timestamp" });
});

test("standard webhook: missing headers", async () => {
  assertDeepEqual(await swVerify({ id: null }), { ok: false, reason: "missing_headers" });
  assertDeepEqual(await swVerify({ timestamp: null }), { ok: false, reason: "missing_headers" });
  assertDeepEqual(await swVerify({ signature: null }), { ok: false, reason: "missing_headers" });
});

test("standard webhook: any secret and any v1 entry may match (rotation)", async () => {
  const newSecret = "whsec_dGhpcyBpcyBhIG5ldyBzZWNyZXQga2V5IDMyYnk=";
  assertDeepEqual(await swVerify({ secrets: [newSecret, SW_SECRET] }), { ok: true });
  assertDeepEqual(await swVerify({ secrets: [newSecret] }), { ok: false, reason: "bad_signature" });
  const newSig = await signStandardWebhook(newSecret, SW_ID, SW_TS, SW_BODY);
  const both = `${newSig} ${SW_SIG}`;
  assertDeepEqual(await swVerify({ secrets: [newSecret], signature: both }), { ok: true });
  assertDeepEqual(await swVerify({ secrets: [SW_SECRET], signature: both }), { ok: true });
  assertDeepEqual(await swVerify({ signature: `v2,${SW_SIG.slice(3)}` }), {
    ok: false,
    reason: "bad_signature",
  });
});

test("standard webhook: tampered id or body fails", async () => {
  assertDeepEqual(await swVerify({ id: "msg_other" }), { ok: false, reason: "bad_signature" });
  assertDeepEqual(await swVerify({ rawBody: enc.encode('{"test": 2432232315}') }), {
    ok: false,
    reason: "bad_signature",
  });
});

test("follow up boss: HMAC-SHA256 over base64(body)", async () => {
  const body = '{"eventId":"e1","event":"peopleUpdated","resourceIds":[1,2]}';
  const sig = await signFub(body, "system-key");
  assertEqual(sig, await hmacHex("SHA-256", "system-key", btoa(body)));
  assertTrue(await verifyFub(enc.encode(body), sig, "system-key"));
  assertTrue(await verifyFub(enc.encode(body), sig.toUpperCase(), "system-key"));
  assertTrue(!(await verifyFub(enc.encode(body), sig, "other-key")));
  assertTrue(!(await verifyFub(enc.encode(`${body} `), sig, "system-key")));
  assertTrue(!(await verifyFub(enc.encode(body), null, "system-key")));
  // Signing the body itself (not its base64) is a different, wrong scheme.
  assertTrue(
    !(await verifyFub(enc.encode(body), await hmacHex("SHA-256", "system-key", body), "system-key")),
  );
});

test("dotloop: HMAC-SHA1 known answer (RFC 2202 test case 2)", async () => {
  assertEqual(
    await signDotloop("Jefe", "what do ya want for nothing?"),
    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  );
});

test("dotloop: the signed text is the raw body, or timestamp.body when the connection says so", async () => {
  const body = '{"eventId":"d1","eventType":"LOOP_UPDATED"}';
  const ts = "1700000000";
  const bodySig = await signDotloop("signing-key", body);
  const tsSig = await signDotloop("signing-key", `${ts}.${body}`);
  assertEqual(bodySig, await hmacHex("SHA-1", "signing-key", body));
  assertEqual(new TextDecoder().decode(signedText("timestamp.body", ts, body)), `${ts}.${body}`);
  const verify = (
    signature: string | null,
    mode: "body" | "timestamp.body",
    key = "signing-key",
    raw = body,
  ) => verifyDotloopSignature({ rawBody: enc.encode(raw), signature, timestamp: ts, signingKey: key, mode });
  assertTrue(await verify(bodySig, "body"));
  assertTrue(await verify(bodySig.toUpperCase(), "body"));
  assertTrue(!(await verify(bodySig, "timestamp.body")));
  assertTrue(await verify(tsSig, "timestamp.body"));
  assertTrue(!(await verify(tsSig, "body")));
  assertTrue(!(await verify(bodySig, "body", "wrong")));
  assertTrue(!(await verify(bodySig, "body", "signing-key", "{}")));
  assertTrue(!(await verify(null, "body")));

  const scheme = dotloopWebhookScheme();
  const headers = (sig: string, stamp: string) => ({
    get: (n: string) => ({ "X-DOTLOOP-SIGNATURE": sig, "X-DOTLOOP-TIMESTAMP": stamp })[n] ?? null,
  });
  const input = (sig: string, credentials: Record<string, string>, nowSec = Number(ts)) => ({
    rawBody: enc.encode(body),
    headers: headers(sig, ts),
    credentials: { webhookSigningKey: "signing-key", ...credentials },
    nowSec,
  });
  assertDeepEqual(await scheme.verify(input(bodySig, {})), { ok: true });
  assertDeepEqual(await scheme.verify(input(tsSig, {})), { ok: false, code: "bad_signature" });
  assertDeepEqual(await scheme.verify(input(tsSig, { signedText: "timestamp.body" })), { ok: true });
  assertDeepEqual(await scheme.verify(input(bodySig, {}, Number(ts) + 301)), {
    ok: false,
    code: "stale_timestamp",
  });
});
