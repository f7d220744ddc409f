import { applyMigrations } from "./lib/migrate";
import { ensurePostgres } from "./lib/postgres";

// `npm run db:migrate`: DATABASE_URL when set, else the embedded dev cluster.
const db = await ensurePostgres({ mode: "dev", log: console.log });
try {
  await applyMigrations(db.url);
  console.log(`migrations applied to ${db.url.replace(/\/\/[^@]*@/, "//***@")}`);
} finally {
  await db.stop();
}
