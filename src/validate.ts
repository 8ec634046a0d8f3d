// Value validators for run options: each knows its Arrow kind, its spec (zod) type and how to check a
// CLI string or spec value. A failed check throws Bad(expected); the caller names the field.
import type { z as Zod } from "zod";

/** A spec value's zod type, built from the zod the spec parser passes in: zod is then loaded only where specs are
 *  parsed, not by every module that reads the option table (a worker starts ~70 ms sooner). */
export type SpecType = (z: typeof Zod) => Zod.ZodType;

/** A user error: one line naming the field and value; the CLI exits with code 2. */
export class UsageError extends Error {
  constructor(field: string, value: unknown, expected: string) {
    super(
      value === undefined
        ? `${field}: missing: expected ${expected}`
        : `${field}: expected ${expected}, got ${JSON.stringify(value)}`,
    );
  }
}

/** A value that fails its check: `expected` says what would pass. */
export class Bad extends Error {
  constructor(readonly expected: string) {
    super(expected);
  }
}

export type Kind = "int" | "float" | "bool" | "utf8";
/** C: the configuration parsed so far (options earlier in the table). */
export interface Value<T, C = any> {
  kind: Kind;
  /** the spec's type, and how a spec error describes it */
  zod: SpecType;
  typeText: string;
  /** v: the given value (undefined: none given), c: the configuration so far, d: the default, raw: the
   *  options as given (for messages that name another field) */
  check(v: unknown, c: C, d: T, raw?: Record<string, unknown>): T;
}

export const MAX_INT = 2 ** 31 - 1;

function toNumber(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
}

/** A finite number passing `test`; `expected` may depend on the configuration so far. */
export function number<C = any>(
  test: (x: number, c: C) => boolean,
  expected: string | ((c: C) => string),
  kind: "int" | "float" = "float",
): Value<number, C> {
  return {
    kind,
    zod: kind === "int" ? (z) => z.number().int() : (z) => z.number(),
    typeText: kind === "int" ? "an integer" : "a number",
    check(v, c, d) {
      if (v === undefined) return d;
      const x = toNumber(v);
      if (!Number.isFinite(x) || !test(x, c)) throw new Bad(typeof expected === "string" ? expected : expected(c));
      return x;
    },
  };
}

/** An integer in [lo, hi] (bounds may depend on the configuration so far). */
export function integer<C = any>(lo: number, hi: number | ((c: C) => number), expected?: string | ((c: C) => string)) {
  const top = (c: C) => (typeof hi === "number" ? hi : hi(c));
  return number<C>(
    (x, c) => Number.isInteger(x) && x >= lo && x <= top(c),
    expected ?? `an integer in [${lo}, ${hi}]`,
    "int",
  );
}

export function choice<T extends string>(options: readonly T[]): Value<T> {
  return {
    kind: "utf8",
    zod: (z) => z.enum(options as unknown as [T, ...T[]]),
    typeText: `one of ${options.join("|")}`,
    check(v, _c, d) {
      if (v === undefined) return d;
      if (typeof v !== "string" || !options.includes(v as T)) throw new Bad(`one of ${options.join("|")}`);
      return v as T;
    },
  };
}

export function flag(): Value<boolean> {
  return {
    kind: "bool",
    zod: (z) => z.boolean(),
    typeText: "true or false",
    check(v, _c, d) {
      if (v === undefined) return d;
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "1") return true;
      if (v === "false" || v === "0") return false;
      throw new Bad("true or false");
    },
  };
}

/** A value given as text (or, in a spec, as `zod` allows), parsed by `parse` (which throws Bad). */
export function text<T, C = any>(
  typeText: string,
  parse: (v: unknown, c: C, d: T, raw?: Record<string, unknown>) => T,
  zod: SpecType = (z) => z.string(),
  kind: Kind = "utf8",
): Value<T, C> {
  return { kind, zod, typeText, check: parse };
}
