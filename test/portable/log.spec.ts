import { configureLogging, logger, withIds } from "../../src/core/log";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

test("log: one JSON line per record with the context ids at the top level, on every runtime", () => {
  configureLogging();
  const captured: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    captured.push(String(args[0]));
  };
  try {
    withIds(logger("spec"), { accountId: "acc_1", connectionId: "con_1", entity: "people", runId: undefined })
      .with({ provider: "fub" })
      .warn("{message}", { message: "attempt 1 of 8 failed: {not a placeholder}" });
  } finally {
    console.warn = original;
  }
  assertEqual(captured.length, 1);
  const line = JSON.parse(captured[0] as string) as Record<string, unknown>;
  assertDeepEqual(
    {
      accountId: line.accountId,
      connectionId: line.connectionId,
      entity: line.entity,
      provider: line.provider,
      level: line.level,
      logger: line.logger,
      message: line.message,
    },
    {
      accountId: "acc_1",
      connectionId: "con_1",
      entity: "people",
      provider: "fub",
      level: "warning",
      logger: "edge-etl.spec",
      message: "attempt 1 of 8 failed: {not a placeholder}",
    },
  );
  assertTrue(!("runId" in line), "an unknown id is left out");
  assertTrue(typeof line.time === "string" && !Number.isNaN(Date.parse(line.time as string)));
});
