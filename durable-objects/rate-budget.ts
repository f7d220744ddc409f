import { DurableObject } from "cloudflare:workers";
import type { RateLimitPolicy } from "../src/connectors/types";
import type { Priority } from "../src/core/rate-budget";
import type { Env } from "../src/env";
import {
  type Acquired,
  type BudgetFeedback,
  budgetStore,
  type RateBudgetView,
  type Settled,
} from "./budget-store";

/** The one budget this object keeps, in the same table and format as a connection's budget in AccountSync. */
const KEY = "credential";

/** How often an object looks whether its budget still matters; an idle one forgets it and its storage. */
const IDLE_CHECK_MS = 60 * 60_000;

/**
 * The rate budget of one provider credential (e.g. one API key), shared by every connection that holds it, in any
 * account. Named by the credential's fingerprint (src/core/rate-scope.ts), never by the credential. Same sliding
 * windows, contexts, priorities and reserves as a connection's own budget (budget-store.ts): only where they are
 * kept differs. Its own clock dates every grant, so grants from callers on different machines form one ordered log.
 */
export class RateBudget extends DurableObject<Env> {
  /** Set once this instance armed the idle check; the alarm re-arms itself while the budget is in use. */
  private armed = false;
  /** The table is created on first use, so an object whose budget was forgotten keeps no storage at all. */
  private ready = false;

  private get sql(): SqlStorage {
    if (!this.ready) {
      budgetStore.ensureTable(this.ctx.storage.sql);
      this.ready = true;
    }
    return this.ctx.storage.sql;
  }

  /** One request of `context` at `priority`: granted now, or retry at retryAt. */
  async acquire(priority: Priority, policy: RateLimitPolicy, context: string): Promise<Acquired> {
    const result = budgetStore.acquire(this.sql, KEY, priority, Date.now(), policy, context);
    if (!this.armed) {
      this.armed = true;
      await this.ctx.storage.setAlarm(Date.now() + IDLE_CHECK_MS);
    }
    return result;
  }

  /** A response's rate headers and, for a 429, its Retry-After, applied to the context it was counted in. */
  async settle(feedback: BudgetFeedback): Promise<Settled> {
    return budgetStore.settle(this.sql, KEY, Date.now(), feedback);
  }

  async snapshot(): Promise<RateBudgetView> {
    return budgetStore.snapshot(this.sql, KEY, Date.now());
  }

  /** A budget nobody used for a while holds nothing a verdict needs: its storage goes (a rotated key's, say). */
  override async alarm(): Promise<void> {
    if (budgetStore.idle(this.sql, KEY, Date.now())) {
      await this.ctx.storage.deleteAll();
      this.ready = false;
      this.armed = false;
      return;
    }
    await this.ctx.storage.setAlarm(Date.now() + IDLE_CHECK_MS);
  }
}
