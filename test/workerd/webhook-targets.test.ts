import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { encryptCredentials } from "../../src/accounts/connections";
import { parseKeyring } from "../../src/core/crypto";
import { AppError } from "../../src/core/errors";
import type { WebhookTarget } from "../../src/webhooks/inbox";
import {
  clearTargetCache,
  forgetMissingTarget,
  keyringFor,
  MISSING_TTL_MS,
  resolveTarget,
  TARGET_TTL_MS,
  type TargetSource,
} from "../../src/webhooks/targets";

const ACCOUNT = "acc_targets";
const CONNECTION = "con_targets";

async function row(credentials: Record<string, string>): Promise<WebhookTarget> {
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  return {
    accountId: ACCOUNT,
    connectionId: CONNECTION,
    provider: "fub",
    credentialsEnc: await encryptCredentials(keyring, ACCOUNT, CONNECTION, credentials),
  };
}

/** A routing source that counts its reads and answers what `answer` says at the time. */
function countingSource(answer: () => Promise<WebhookTarget | null>) {
  const source = {
    reads: 0,
    find: async () => {
      source.reads++;
      return answer();
    },
  };
  return source satisfies TargetSource;
}

beforeEach(() => clearTargetCache());

describe("webhook routing from memory", () => {
  it("reads a connection once per TTL, decrypted, and once for a burst", async () => {
    const stored = await row({ apiKey: "k", systemKey: "sys-1" });
    const source = countingSource(async () => stored);
    const now = 1_000_000;
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => resolveTarget(env, "fub", CONNECTION, { now, source })),
    );
    expect(source.reads).toBe(1);
    expect(burst.every((t) => t?.credentials.systemKey === "sys-1" && t.accountId === ACCOUNT)).toBe(true);

    await resolveTarget(env, "fub", CONNECTION, { now: now + TARGET_TTL_MS - 1, source });
    expect(source.reads).toBe(1);
    await resolveTarget(env, "fub", CONNECTION, { now: now + TARGET_TTL_MS, source });
    expect(source.reads).toBe(2);
    await resolveTarget(env, "fub", CONNECTION, { now: now + TARGET_TTL_MS, source, fresh: true });
    expect(source.reads).toBe(3);
  });

  it("serves the expired copy while another request re-reads it, without waiting on that read", async () => {
    const stored = await row({ systemKey: "sys-old" });
    let release: (row: WebhookTarget) => void = () => {};
    let slow = false;
    const source = countingSource(() =>
      slow ? new Promise<WebhookTarget>((r) => (release = r)) : Promise.resolve(stored),
    );
    const now = 5_000_000;
    await resolveTarget(env, "fub", CONNECTION, { now, source });
    slow = true;
    const later = now + TARGET_TTL_MS;
    const refreshing = resolveTarget(env, "fub", CONNECTION, { now: later, source });
    const meanwhile = await resolveTarget(env, "fub", CONNECTION, { now: later, source });
    expect(meanwhile?.credentials.systemKey).toBe("sys-old");
    expect(source.reads).toBe(2);
    release(await row({ systemKey: "sys-new" }));
    expect((await refreshing)?.credentials.systemKey).toBe("sys-new");
    expect((await resolveTarget(env, "fub", CONNECTION, { now: later, source }))?.credentials.systemKey).toBe(
      "sys-new",
    );
    expect(source.reads).toBe(2);
  });

  it("with nothing cached, waits for another request's read on its own timer, and reads itself if that fails", async () => {
    const good = await row({ systemKey: "s" });
    let fail: (e: Error) => void = () => {};
    let first = true;
    const source = countingSource(() => {
      if (!first) return Promise.resolve(good);
      first = false;
      return new Promise<WebhookTarget>((_resolve, reject) => (fail = reject));
    });
    const reading = resolveTarget(env, "fub", CONNECTION, { now: 1, source }).catch((e: unknown) => e);
    const waiting = resolveTarget(env, "fub", CONNECTION, { now: 1, source });
    await new Promise((r) => setTimeout(r, 20));
    expect(source.reads).toBe(1);
    fail(new Error("connect ECONNREFUSED"));
    expect(await reading).toMatchObject({ status: 503, code: "unavailable" });
    expect((await waiting)?.credentials.systemKey).toBe("s");
    expect(source.reads).toBe(2);
  });

  it("keeps entries apart per provider and per database", async () => {
    const stored = await row({ systemKey: "s" });
    const source = countingSource(async () => stored);
    await resolveTarget(env, "fub", CONNECTION, { now: 1, source });
    await resolveTarget(env, "dotloop", CONNECTION, { now: 1, source });
    await resolveTarget({ ...env, DATABASE_URL: `${env.DATABASE_URL}?other` }, "fub", CONNECTION, {
      now: 1,
      source,
    });
    expect(source.reads).toBe(3);
  });

  it("remembers a missing connection briefly, bounded, and forgets the miss when one is created", async () => {
    const source = countingSource(async () => null);
    const burst = await Promise.all(
      Array.from({ length: 16 }, () => resolveTarget(env, "fub", "con_unknown", { now: 1, source })),
    );
    expect(burst.every((t) => t === null)).toBe(true);
    for (let i = 0; i < 50; i++) await resolveTarget(env, "fub", "con_unknown", { now: 2 + i, source });
    expect(source.reads).toBe(1);
    await resolveTarget(env, "fub", "con_unknown", { now: 1 + MISSING_TTL_MS, source });
    expect(source.reads).toBe(2);

    forgetMissingTarget(env, "fub", "con_unknown");
    await resolveTarget(env, "fub", "con_unknown", { now: 2 + MISSING_TTL_MS, source });
    expect(source.reads).toBe(3);

    // Any number of distinct unknown URLs keeps at most MAX misses: the oldest is read again.
    const flood = countingSource(async () => null);
    for (let i = 0; i <= 10_000; i++)
      await resolveTarget(env, "fub", `con_flood_${i}`, { now: 5, source: flood });
    expect(flood.reads).toBe(10_001);
    await resolveTarget(env, "fub", "con_flood_10000", { now: 5, source: flood });
    expect(flood.reads).toBe(10_001);
    await resolveTarget(env, "fub", "con_flood_0", { now: 5, source: flood });
    expect(flood.reads).toBe(10_002);
  });

  it("does not remember an unreachable database or an undecryptable secret", async () => {
    let answer: () => Promise<WebhookTarget | null> = async () => null;
    const source = countingSource(() => answer());
    expect(await resolveTarget(env, "fub", CONNECTION, { now: 1, source })).toBeNull();
    expect(source.reads).toBe(1);
    clearTargetCache();

    answer = async () => {
      throw new Error("connect ECONNREFUSED");
    };
    const down = await resolveTarget(env, "fub", CONNECTION, { now: 1, source }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(AppError);
    expect(down).toMatchObject({ status: 503, code: "unavailable" });

    // A blob bound to another connection (moved between rows) must not decrypt here.
    const keyring = await parseKeyring(env.CREDENTIALS_KEY);
    const foreign = await encryptCredentials(keyring, ACCOUNT, "con_other", { systemKey: "s" });
    answer = async () => ({ ...(await row({})), credentialsEnc: foreign });
    const unreadable = await resolveTarget(env, "fub", CONNECTION, { now: 1, source }).catch(
      (e: unknown) => e,
    );
    expect(unreadable).toMatchObject({ status: 503, code: "credentials_unavailable" });
    expect(String((unreadable as Error).message)).not.toContain('s"');

    const good = await row({ systemKey: "s" });
    answer = async () => good;
    expect((await resolveTarget(env, "fub", CONNECTION, { now: 1, source }))?.credentials).toEqual({
      systemKey: "s",
    });
    expect(source.reads).toBe(4);
  });

  it("parses a keyring once per secret, and a bad secret is an error", async () => {
    expect(await keyringFor(env.CREDENTIALS_KEY)).toBe(await keyringFor(env.CREDENTIALS_KEY));
    await expect(keyringFor("not a keyring")).rejects.toThrow();
  });
});
