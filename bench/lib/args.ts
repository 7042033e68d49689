// Command line of `node dist/bench/run.js`, validated with zod so a typo is
// an error that names the flag, never a silently different run.
import { z } from "zod";

export const USAGE = `usage: node dist/bench/run.js <scenario|all> [--duration s] [--out dir] [--targets a,b] [--repeat n] [--tiny]
  scenario   broadcast | rooms | idle | sse | publish | noisy-neighbour | cluster | all
  --duration seconds per measurement window (default: per scenario)
  --out      directory for <timestamp>.json and <timestamp>.svg (default: results)
  --targets  comma-separated subset of: switchyard, switchyard-cluster, uws, ws, socketio, uws-sse, http-sse
  --repeat   rounds per scenario, every system once per round; figures are medians (default 1, at most 9)
  --tiny     smoke sizes: a few connections, about a second per window`;

const optsSchema = z.object({
  scenario: z.string().min(1, "a scenario (or all) is required"),
  duration: z.coerce.number().positive().max(300).optional(),
  out: z.string().min(1).default("results"),
  targets: z.string().regex(/^[a-z-]+(,[a-z-]+)*$/, "must be a comma-separated list of target names").optional(),
  repeat: z.coerce.number().int().min(1).max(9).default(1),
  tiny: z.boolean().default(false),
  help: z.boolean().default(false),
});
export type Options = z.infer<typeof optsSchema>;

/** Flags that take a value, as `--flag v` or `--flag=v`. */
const VALUE_FLAGS = ["duration", "out", "targets", "repeat"];

export type ParseResult = { ok: true; opts: Options } | { ok: false; problems: string[] };

export function parseArgs(argv: string[]): ParseResult {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--tiny" || a === "--help" || a === "-h") raw[a === "-h" ? "help" : a.slice(2)] = true;
    else if (a.startsWith("--") && VALUE_FLAGS.includes(a.slice(2))) {
      const v = argv[++i];
      if (v === undefined) problems.push(`${a}: needs a value`);
      else raw[a.slice(2)] = v;
    } else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0 && VALUE_FLAGS.includes(key)) raw[key] = a.slice(eq + 1);
      else problems.push(`${a}: unknown option`);
    } else positional.push(a);
  }
  if (positional.length > 1) problems.push(`only one scenario may be given (got ${positional.join(" ")})`);
  if (positional[0] !== undefined) raw.scenario = positional[0];
  else if (!raw.help) raw.scenario = "";
  else raw.scenario = "all";
  const parsed = optsSchema.safeParse(raw);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0] ?? "arguments")}: ${issue.message}`);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, opts: parsed.data };
}
