import { parseArgs } from "node:util";
import { type Command, commands } from "./commands";
import { resolveTarget } from "./config";
import { CliError, EXIT, printable } from "./errors";
import { Api } from "./http";

// `edge-etl`: the operator's command line over the admin API. Reads what the API answers; holds no state.

const GLOBAL = {
  url: { type: "string", arg: "url", help: "API base URL (env EDGE_ETL_URL)" },
  token: { type: "string", arg: "token", help: "admin token or account API key (env EDGE_ETL_TOKEN)" },
  config: { type: "string", arg: "file", help: "config file (default ~/.config/edge-etl.json)" },
  help: { type: "boolean", help: "show help" },
} as const;

const groups = [...new Set(commands.map((c) => c.name.split(" ")[0] as string))];

function overview(): string {
  const width = Math.max(...commands.map((c) => usageLine(c).length));
  return [
    "usage: edge-etl <command> [options]",
    "",
    ...commands.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.summary}`),
    "",
    "global options:",
    ...optionLines(GLOBAL),
    "",
    "Reads URL and token from --url/--token, then EDGE_ETL_URL/EDGE_ETL_TOKEN, then the config file",
    '({"url": "...", "token": "..."}). Exit codes: 0 ok, 1 run ended in ERROR or COMPLETED_WITH_ERRORS',
    "or a check found problems,",
    "2 usage, 3 auth (401/403), 4 not found, 5 server or network, 6 request rejected (other 4xx),",
    "7 --follow timed out. `edge-etl <command> --help` for a command's options.",
  ].join("\n");
}

function usageLine(c: Command): string {
  return `${c.name}${c.args.map((a) => ` <${a}>`).join("")}`;
}

function optionLines(opts: Record<string, { arg?: string; help: string }>): string[] {
  const entries = Object.entries(opts).map(
    ([k, o]) => [`--${k}${o.arg ? ` <${o.arg}>` : ""}`, o.help] as const,
  );
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, h]) => `  ${k.padEnd(width)}  ${h}`);
}

function commandHelp(c: Command): string {
  const own = {
    ...c.options,
    ...(c.read || c.json ? { json: { help: "print the API's JSON answer" } } : {}),
  };
  return [
    `usage: edge-etl ${usageLine(c)} [options]`,
    "",
    c.summary,
    ...(Object.keys(own).length ? ["", "options:", ...optionLines(own)] : []),
    "",
    "global options:",
    ...optionLines(GLOBAL),
  ].join("\n");
}

/** Every option that takes a value, of any command, so a loose parse does not read its value as a positional. */
function allStringOptions(): Record<string, { type: "string"; multiple: true }> {
  const all: Record<string, { type: "string"; multiple: true }> = {};
  for (const opts of [GLOBAL, ...commands.map((c) => c.options)]) {
    for (const [k, o] of Object.entries(opts))
      if (o.type === "string") all[k] = { type: "string", multiple: true };
  }
  return all;
}

function findCommand(positionals: string[]): { command: Command; rest: string[] } | null {
  const [first, second] = positionals;
  const two = commands.find((c) => c.name === `${first} ${second}`);
  if (two) return { command: two, rest: positionals.slice(2) };
  const one = commands.find((c) => c.name === first);
  return one ? { command: one, rest: positionals.slice(1) } : null;
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  // Find the command first (options may appear anywhere), then parse strictly with its own options.
  const loose = parseArgs({ args: argv, options: allStringOptions(), strict: false, allowPositionals: true });
  const found = findCommand(loose.positionals);
  if (!found) {
    const [first, second] = loose.positionals;
    if (first && groups.includes(first)) {
      const group = commands.filter((c) => c.name.startsWith(`${first} `));
      if (loose.values.help && second === undefined) {
        out.write(`${group.map(commandHelp).join("\n\n")}\n`);
        return EXIT.ok;
      }
      const subs = group.map((c) => c.name.split(" ")[1]).join(", ");
      err.write(
        `edge-etl ${first}: expected one of ${subs}${second ? `, got "${printable(second, 40)}"` : ""}\n`,
      );
      return EXIT.usage;
    }
    if (loose.values.help || loose.positionals.length === 0) {
      (loose.values.help ? out : err).write(`${overview()}\n`);
      return loose.values.help ? EXIT.ok : EXIT.usage;
    }
    err.write(`edge-etl: unknown command "${printable(first ?? "", 40)}"\n\n${overview()}\n`);
    return EXIT.usage;
  }
  const { command } = found;
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [k, o] of Object.entries({ ...GLOBAL, ...command.options })) {
    options[k] = { type: o.type, ...("multiple" in o && o.multiple ? { multiple: true } : {}) };
  }
  if (command.read || command.json) options.json = { type: "boolean" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    err.write(
      `edge-etl ${command.name}: ${printable(error instanceof Error ? error.message : String(error))}\n`,
    );
    err.write(`${commandHelp(command)}\n`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    out.write(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  const args = parsed.positionals.slice(command.name.split(" ").length);
  if (args.length !== command.args.length) {
    err.write(
      `edge-etl ${command.name}: expects ${command.args.map((a) => `<${a}>`).join(" ") || "no arguments"}\n`,
    );
    err.write(`${commandHelp(command)}\n`);
    return EXIT.usage;
  }
  let api: Api | undefined;
  return command.run({
    api: () => {
      api ??= new Api(
        resolveTarget({
          flags: {
            url: parsed.values.url as string | undefined,
            token: parsed.values.token as string | undefined,
            config: parsed.values.config as string | undefined,
          },
          env,
        }),
      );
      return api;
    },
    args,
    values: parsed.values,
    json: parsed.values.json === true,
    out,
    err,
  });
}

export async function run(argv: string[]): Promise<void> {
  let code: number;
  try {
    code = await main(argv, process.env);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`error: ${error.message}\n`);
      code = error.exitCode;
    } else {
      process.stderr.write(`error: ${printable(error instanceof Error ? error.message : String(error))}\n`);
      code = EXIT.server;
    }
  }
  process.exitCode = code;
}

// Run when executed directly (tsx tools/cli/main.ts ...), not when imported.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  await run(process.argv.slice(2));
}
