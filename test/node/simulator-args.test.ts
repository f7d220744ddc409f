import { describe, expect, it } from "vitest";
import { simulatorArgs } from "../../tools/lib/serve-anywhere";
import { parseArgs as dotloopArgs } from "../../tools/simulator-dotloop/main";
import { parseArgs as loftyArgs } from "../../tools/simulator-lofty/main";

// One reader for every simulator's command line: both option spellings, repeatable options in order, the port
// from the option, the environment or the default, unknown options ignored, a bad port refused.
describe("simulator command lines", () => {
  it("reads --name value and --name=value, repeatable in order, unknown ignored", () => {
    const r = simulatorArgs(
      ["--port=0", "--host", "::1", "--key", "a", "--extra", "x", "--key=b", "--seed", "7"],
      {
        defaultPort: 9,
        one: ["seed"],
        many: ["key"],
      },
    );
    expect(r).toEqual({ port: 0, host: "::1", one: { seed: "7" }, many: { key: ["a", "b"] } });
  });

  it("the port comes from the environment, then the default; a bad one is refused", () => {
    process.env.SIM_ARGS_TEST_PORT = "4321";
    expect(simulatorArgs([], { defaultPort: 9, portEnv: "SIM_ARGS_TEST_PORT" }).port).toBe(4321);
    delete process.env.SIM_ARGS_TEST_PORT;
    expect(simulatorArgs([], { defaultPort: 9, portEnv: "SIM_ARGS_TEST_PORT" }).port).toBe(9);
    expect(() => simulatorArgs(["--port", "70000"], { defaultPort: 9 })).toThrow(/invalid port/);
    expect(() => simulatorArgs(["--port", "x"], { defaultPort: 9 })).toThrow(/invalid port/);
  });

  it("the simulators build their options from it", () => {
    expect(loftyArgs(["--key", "k1:5", "--key", "k2", "--leads", "3", "--port", "0"]).options).toEqual({
      counts: { leads: 3 },
      keys: { k1: 5, k2: 10 },
    });
    expect(dotloopArgs(["--user", "5:2", "--client", "c:s:x"])).toMatchObject({
      clients: { c: "s:x" },
      users: { 5: { counts: { loopsPerProfile: 2 } } },
    });
  });
});
