// Run configuration, derived from the option table (src/option-table.ts): the RunConfig type, the
// PROTOCOL.md defaults, validation of user input, the CLI's flags and help, runs.arrow's option
// columns and the measured-Wc control key.
import { OPTIONS, Option, Role, ACTS, OPTIMS } from "./option-table.js";
import { Bad, Kind, UsageError } from "./validate.js";

export { UsageError } from "./validate.js";
export {
  ARMS,
  ACTS,
  OPTIMS,
  TASKS,
  MODELS,
  LOSSES,
  GROUPS,
  wdSchedule,
  grokfast,
  modelGroups,
  logGrid,
} from "./option-table.js";
export { curvesMode } from "./option-table.js";
export type { Arm, Group, Role } from "./option-table.js";
export type Act = (typeof ACTS)[number];
export type Optim = (typeof OPTIMS)[number];

type Table = typeof OPTIONS;
export type OptionKey = keyof Table;
export type RunConfig = { [K in OptionKey]: Table[K] extends Option<infer T> ? T : never };
type Raw = Record<string, unknown>;

const ENTRIES = Object.entries(OPTIONS) as [OptionKey, Option<unknown>][];

/** A RunConfig field's long option and spec key: initScale → init-scale (H stays H). */
export const flagOf = (key: string): string => key.replace(/([a-z])([A-Z])/g, (_, a, b) => `${a}-${b.toLowerCase()}`);

export const DEFAULTS = Object.fromEntries(ENTRIES.map(([k, o]) => [k, o.dflt])) as RunConfig;

/** PROTOCOL.md's value for this architecture where it differs from the default: by task, model, optimizer. */
function protocolDefault(o: Option<unknown>, c: Raw): unknown {
  const by = o.by as Record<string, unknown> | undefined;
  if (!by) return undefined;
  return by[c.task === "parity" ? "parity" : (c.model as string)] ?? by[c.optim as string];
}

/** Validate raw options (CLI strings or spec values, keyed by long option name) into a RunConfig, in
 *  table order (a check sees the options before it); the first problem throws a UsageError. */
export function parseRunConfig(raw: Raw): RunConfig {
  const c: Raw = {};
  const forced: [OptionKey, (c: Raw) => unknown][] = [];
  for (const [k, o] of ENTRIES) {
    const flag = flagOf(k);
    const given = raw[flag];
    if (o.applies && !o.applies(c)) {
      c[k] = o.dflt; // meaningless here: ignored, as before
      continue;
    }
    const fixed = o.fixed?.(c);
    if (fixed) {
      // refuse rather than run duplicates that differ only in an ignored value
      if (given !== undefined) throw new UsageError(`--${flag}`, given, `omitted for ${fixed[0]}`);
      forced.push([k, fixed[1]]);
      continue;
    }
    const v = given ?? protocolDefault(o, c);
    try {
      c[k] = o.value.check(v, c, o.dflt, raw);
    } catch (e) {
      if (e instanceof Bad) throw new UsageError(`--${flag}`, v, e.expected);
      throw e;
    }
  }
  for (const [k, value] of forced) c[k] = value(c);
  return Object.fromEntries(ENTRIES.map(([k]) => [k, c[k]])) as RunConfig;
}

/** The CLI's options: flag, yargs type and help with the defaults. */
export function cliOptions(): [flag: string, spec: { type: "string" | "boolean"; describe: string }][] {
  return ENTRIES.map(([k, o]) => [
    flagOf(k),
    { type: o.value.kind === "bool" ? "boolean" : "string", describe: `${o.help}${defaultsText(o)}` },
  ]);
}

function defaultsText(o: Option<unknown>): string {
  const show = (x: unknown) => (typeof x === "number" || (typeof x === "string" && x !== "") ? String(x) : null);
  if (show(o.dflt) === null) return "";
  const by = Object.entries(o.by ?? {}).map(([tag, x]) => `${tag}: ${show(x)}`);
  return ` [${[show(o.dflt), ...by].join("; ")}]`;
}

/** The options of these roles, in table order. */
export const keysOf = (...roles: Role[]): OptionKey[] =>
  ENTRIES.filter(([, o]) => roles.includes(o.role)).map(([k]) => k);

/** Whether option k means something for configuration c (parity sizes only for parity, heads only for attn). */
export const appliesTo = (k: OptionKey, c: Record<string, any>): boolean => OPTIONS[k].applies?.(c) ?? true;

/** The spec's keys in expansion order (the first varies slowest). */
export const SPEC_KEYS = ENTRIES.filter(([, o]) => o.spec !== false).map(([k]) => flagOf(k));

/** An option's spec value type (zod) and how a spec error describes it, by spec key. */
export const SPEC_TYPES = Object.fromEntries(
  ENTRIES.filter(([, o]) => o.spec !== false).map(([k, o]) => [flagOf(k), o.value]),
);

export interface OptionColumn {
  name: string;
  key: OptionKey;
  kind: Kind;
  nullable: boolean;
  role: Role;
  get: (c: RunConfig) => unknown;
  /** what files written before the column existed read as */
  later: unknown;
  since: number;
}
/** The option columns of runs.arrow, in table order. */
export const OPTION_COLUMNS: OptionColumn[] = ENTRIES.filter(([, o]) => o.col !== undefined).map(([k, o]) => {
  const col = typeof o.col === "string" ? { name: o.col } : o.col!;
  const get = "get" in col && col.get ? (col.get as (c: RunConfig) => unknown) : (c: RunConfig) => c[k];
  return {
    name: col.name,
    key: k,
    kind: o.value.kind,
    nullable: "get" in col && col.get !== undefined,
    role: o.role,
    get,
    later: "later" in col ? col.later : undefined,
    since: ("since" in col && col.since) || 0,
  };
});

/** The configuration a measured Wc is taken from: the free control with the same config options (those
 *  that apply to the model and are not forced by it; lr and momentum are pooled). Takes a RunConfig or a
 *  runs.arrow row (older files lack the newer columns: they read as the value the column defaults to). */
export function controlKey(c: Record<string, any>): string {
  const parts: string[] = [];
  for (const [k, o] of ENTRIES) {
    if (o.role !== "config" || o.control === false || (o.applies && !o.applies(c)) || o.fixed?.(c)) continue;
    const col = typeof o.col === "string" ? o.col : (o.col?.name ?? o.rowName);
    const later = typeof o.col === "object" ? o.col.later : undefined;
    parts.push(`${flagOf(k)}=${k in c ? c[k] : (c[col!] ?? later)}`);
  }
  return parts.join(" ");
}
