import { activities, contacts } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import { instantOrNull } from "./records";

export const PROVIDER = "zillow";

export type ContactSyncEventLike = {
  id: string;
  agentZuid?: string | null;
  eventType: string;
  occurredAt: string;
  updatedAt?: string | null;
  contact: {
    id: string;
    firstName?: string | null;
    lastName?: string | null;
    email?: string | null;
    phone?: string | null;
  };
};

/**
 * A contact sync event feeds the unified tables twice: the contact it carries (as of the event, so the
 * newest event wins by its time) and the event itself as an activity of that contact.
 */
export function eventToUnified(e: ContactSyncEventLike, source: SourceContext): CoreWrite[] {
  const base = {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    deleted_at: null,
  };
  const at = instantOrNull(e.occurredAt);
  const c = e.contact;
  const name = [c.firstName, c.lastName].filter(Boolean).join(" ") || null;
  return [
    {
      table: contacts,
      row: {
        ...base,
        source_id: c.id,
        source_created_at: null,
        source_updated_at: at,
        name,
        first_name: c.firstName ?? null,
        last_name: c.lastName ?? null,
        primary_email: c.email ?? null,
        primary_phone: c.phone ?? null,
        lead_source: "Zillow",
        assigned_to: e.agentZuid ?? null,
      },
    },
    {
      table: activities,
      row: {
        ...base,
        source_id: e.id,
        source_created_at: at,
        source_updated_at: instantOrNull(e.updatedAt) ?? at,
        type: e.eventType,
        occurred_at: at,
        contact_source_id: c.id,
        user_source_id: e.agentZuid ?? null,
        summary: null,
      },
    },
  ];
}

export const eventDeleteTargets = (sourceId: string): DeleteTarget[] => [{ table: activities, sourceId }];
