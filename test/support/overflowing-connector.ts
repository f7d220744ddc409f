import { connectorFor } from "../../src/connectors/registry";
import type { Connector, EntityDef } from "../../src/connectors/types";
import { fubPeople } from "../../src/db/schema";

/**
 * The FUB connector, except that a person named "Overflow" maps to a fub_people row whose stage_id the integer
 * column can't hold: a data error only Postgres sees, for the tests of what a refused record does to its page.
 */
export function overflowingConnector(): Connector {
  const fub = connectorFor("fub");
  const people = fub.entities.people as EntityDef;
  return {
    ...fub,
    entities: {
      ...fub.entities,
      people: {
        ...people,
        toCore: (p, s) =>
          people
            .toCore(p, s)
            .map((w) =>
              (p as { firstName?: string }).firstName === "Overflow" && w.table === fubPeople
                ? { ...w, row: { ...w.row, stage_id: 3_000_000_000 } }
                : w,
            ),
      },
    },
  };
}
