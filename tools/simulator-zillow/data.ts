// Seeded Zillow data (seeds-derived shapes, see contract.ts): one grant owner, teams with a hierarchy, agents
// (some of other ZUIDs' grants, some with a legacy zillow_profile_id, some soft-deleted), legacy sync users
// (some on a drifted team) and contact sync events.

import { ID_PREFIX, TIME_OFFSET } from "./contract";

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An instant written with the contract's offset, e.g. 2026-11-01T02:00:00.000-08:00. */
export function zillowTime(ms: number): string {
  const shifted = new Date(ms - 8 * 3600_000).toISOString().replace("Z", "");
  return `${shifted}${TIME_OFFSET}`;
}

export type Stamped = { id: string; createdAt: string; updatedAt: string; deleted: boolean };
export type Agent = Stamped & {
  zuid: string;
  authZuid: string | null;
  teamId: string | null;
  name: string;
  email: string;
  status: string;
  zillowProfileId: string | null;
};
export type Team = Stamped & { name: string; parentTeamId: string | null; leadZuid: string | null };
export type SyncUser = Stamped & {
  agentZuid: string;
  syncTeamId: string | null;
  status: string;
  lastSyncedAt: string | null;
};
export type ContactSyncEvent = Stamped & {
  agentZuid: string;
  eventType: string;
  occurredAt: string;
  contact: { id: string; firstName: string; lastName: string; email: string; phone: string };
};

export type Counts = { teams: number; agents: number; events: number };
export type Dataset = {
  ownerZuid: string;
  teams: Map<string, Team>;
  agents: Map<string, Agent>;
  syncUsers: Map<string, SyncUser>;
  events: Map<string, ContactSyncEvent>;
};

const FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade"];
const LAST = ["Park", "Stone", "Ng", "Reyes", "Okafor", "Lund", "Moss", "Quinn"];
const EVENT_TYPES = ["lead_created", "contact_updated", "activity_logged"];

export const pad = (n: number) => String(n).padStart(6, "0");

export function generate(seed: number, counts: Counts, now: number): Dataset {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T;
  const at = () => now - Math.floor(r() * 30 * 86_400_000);
  const stamp = (id: string): Stamped => {
    const created = at();
    const updated = Math.min(now, created + Math.floor(r() * 86_400_000));
    return { id, createdAt: zillowTime(created), updatedAt: zillowTime(updated), deleted: false };
  };
  const ownerZuid = `${ID_PREFIX.zuid}${pad(1)}`;
  const teams = new Map<string, Team>();
  for (let i = 1; i <= counts.teams; i++) {
    const id = `${ID_PREFIX.team}${pad(i)}`;
    // The first team is the top; the others hang under an earlier one: a hierarchy inference walks up.
    const parent = i === 1 ? null : `${ID_PREFIX.team}${pad(1 + Math.floor(r() * (i - 1)))}`;
    teams.set(id, {
      ...stamp(id),
      name: `Team ${i}`,
      parentTeamId: r() < 0.3 ? null : parent,
      leadZuid: null,
    });
  }
  const teamIds = [...teams.keys()];
  const agents = new Map<string, Agent>();
  const syncUsers = new Map<string, SyncUser>();
  for (let i = 1; i <= counts.agents; i++) {
    const zuid = `${ID_PREFIX.zuid}${pad(i)}`;
    const first = pick(FIRST);
    const last = pick(LAST);
    const teamId = r() < 0.85 && teamIds.length > 0 ? pick(teamIds) : null;
    const agent: Agent = {
      ...stamp(zuid),
      zuid,
      // Most agents belong to the owner's grant; some to another ZUID's grant (not this connection's).
      authZuid: i === 1 || r() < 0.8 ? ownerZuid : `${ID_PREFIX.zuid}${pad(900_000 + i)}`,
      teamId,
      name: `${first} ${last}`,
      email: `${first}.${last}.${i}@agents.example`.toLowerCase(),
      status: "active",
      zillowProfileId: r() < 0.3 ? `zp-${i}` : null,
    };
    if (i > 1 && r() < 0.05) {
      agent.deleted = true;
      agent.status = "deleted";
    }
    agents.set(zuid, agent);
    if (r() < 0.6) {
      const id = `${ID_PREFIX.syncUser}${pad(i)}`;
      // The legacy sync's team: mostly the agent's, sometimes another (team drift).
      const syncTeamId = r() < 0.9 ? teamId : teamIds.length > 0 ? pick(teamIds) : null;
      syncUsers.set(id, {
        ...stamp(id),
        agentZuid: zuid,
        syncTeamId,
        status: r() < 0.9 ? "active" : "disabled",
        lastSyncedAt: zillowTime(at()),
      });
    }
  }
  const owner = agents.get(ownerZuid);
  const firstTeam = teams.get(teamIds[0] ?? "");
  if (firstTeam && owner) firstTeam.leadZuid = owner.zuid;
  const agentZuids = [...agents.keys()];
  const events = new Map<string, ContactSyncEvent>();
  for (let i = 1; i <= counts.events; i++) {
    const id = `${ID_PREFIX.event}${pad(i)}`;
    const s = stamp(id);
    const c = 1 + Math.floor(r() * Math.max(1, counts.events / 2));
    // A contact's details are its own (whichever of its events is newest carries the same).
    const first = FIRST[c % FIRST.length] as string;
    const last = LAST[c % LAST.length] as string;
    events.set(id, {
      ...s,
      agentZuid: pick(agentZuids),
      eventType: pick(EVENT_TYPES),
      occurredAt: s.createdAt,
      contact: {
        id: `${ID_PREFIX.contact}${pad(c)}`,
        firstName: first,
        lastName: last,
        email: `${first}.${last}.${c}@leads.example`.toLowerCase(),
        phone: `555${String(1_000_000 + c).slice(-7)}`,
      },
    });
  }
  return { ownerZuid, teams, agents, syncUsers, events };
}
