import { sharedCommit } from "../../src/core/shared-commit";
import { assertEqual, assertTrue, test } from "./harness";

test("shared commit: calls made together share one run, each gets its own result", async () => {
  const runs: number[][] = [];
  const double = sharedCommit<number, number>(async (items) => {
    runs.push(items);
    return items.map((i) => i * 2);
  });
  const together = await Promise.all([double(1), double(2), double(3)]);
  assertEqual(JSON.stringify(together), "[2,4,6]");
  assertEqual(JSON.stringify(runs), "[[1,2,3]]");
  // A call after the run has answered starts a run of its own.
  assertEqual(await double(4), 8);
  assertEqual(JSON.stringify(runs), "[[1,2,3],[4]]");
});

test("shared commit: a call arriving while a run is under way waits for the next run", async () => {
  const runs: string[][] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const echo = sharedCommit<string, string>(async (items) => {
    runs.push(items);
    if (items.includes("a")) await gate;
    return items;
  });
  const first = echo("a");
  await new Promise((r) => setTimeout(r, 5));
  const second = echo("b");
  release();
  assertEqual(await first, "a");
  assertEqual(await second, "b");
  assertEqual(JSON.stringify(runs), '[["a"],["b"]]');
});

test("shared commit: a failed run fails every call in it, and only those", async () => {
  let fail = true;
  const write = sharedCommit<string, string>(async (items) => {
    if (fail) throw new Error("disk full");
    return items;
  });
  const outcomes = await Promise.allSettled([write("x"), write("y")]);
  assertTrue(
    outcomes.every((o) => o.status === "rejected" && (o.reason as Error).message === "disk full"),
    "both calls of the failed run reject with its error",
  );
  fail = false;
  assertEqual(await write("z"), "z");
});

test("shared commit: a run that answers for the wrong number of calls fails them instead of guessing", async () => {
  const short = sharedCommit<number, number>(async (items) => items.slice(1));
  const outcomes = await Promise.allSettled([short(1), short(2)]);
  assertTrue(
    outcomes.every((o) => o.status === "rejected"),
    "no call gets another's result",
  );
});
