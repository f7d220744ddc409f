// Ground truth: everything a sync must hold for a user right now, in the API's own shapes
// (participants in their detail form), plus what left (merged loops, deleted contacts and
// participants).

import type { User } from "./user";

export function truthOf(user: User, now: number): Record<string, unknown> {
  const d = user.data;
  const loops = [...d.loops.values()]
    .sort((a, b) => a.loop.id - b.loop.id)
    .map((l) => ({
      ...l.loop,
      details: l.details,
      participants: [...l.participants.values()]
        .sort((a, b) => a.id - b.id)
        .map((p) => ({
          id: p.id,
          fullName: p.fullName,
          email: p.email,
          role: p.role,
          ...p.extra,
          ...(p.phone ? { phone: p.phone } : {}),
        })),
      folders: l.folders.map((f) => ({ ...f.folder, documents: f.documents })),
      tasklists: l.tasklists.map((t) => ({ ...t.list, tasks: t.tasks })),
      activityCount: l.activities.length,
    }));
  return {
    at: new Date(now).toISOString(),
    account: d.account,
    profiles: [...d.profiles.values()],
    loops,
    contacts: [...d.contacts.values()].sort((a, b) => a.id - b.id),
    templates: [...d.templates.values()].flat(),
    merged: Object.fromEntries([...user.merged].map(([from, m]) => [String(from), m.toId])),
    archivedLoopIds: loops.filter((l) => l.status === "ARCHIVED").map((l) => l.id),
    lostProfileIds: [...user.lostProfiles].sort((a, b) => a - b),
    deletedContactIds: [...user.deletedContacts].sort((a, b) => a - b),
    deletedParticipants: [...user.deletedParticipants].map(([id, loopId]) => ({ id, loopId })),
    counts: {
      profiles: d.profiles.size,
      loops: loops.length,
      participants: loops.reduce((n, l) => n + l.participants.length, 0),
      contacts: d.contacts.size,
    },
  };
}
