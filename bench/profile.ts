// `npm run profile`: where a training step's time goes, phase by phase, from the profile build of the
// kernels (assembly/profile.ts: the same code with a host call at each phase boundary; a few dozen
// ns each). Prints ms per step and share for each phase; PROFILE_STEPS scales the run length.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";
import type { Abi } from "../src/engine.js";
import { prepare } from "../src/run.js";
import { parseRunConfig } from "../src/options.js";
import { loadKernels } from "../src/kernels.js";

const PHASES = [
  "",
  "tables T = E·W1",
  "hidden: gather + act",
  "logits h·W2",
  "softmax / loss",
  "dW2 = hᵀ·dlogits",
  "dh = dlogits·W2ᵀ",
  "back through act, scatter dT",
  "dW1 = Eᵀ·dT",
  "dE = dT·W1ᵀ",
  "model (attention: all of it)",
  "optimizer",
  "norm clamp",
];
const acc = new Float64Array(PHASES.length);
let last = 0;
const mark = (phase: number): void => {
  const t = performance.now();
  if (phase > 0) acc[phase] += t - last;
  last = t;
};
// the profile build of the kernels auto picks here (fma or strict), at the width they run
const kernels = loadKernels("auto");
const file = `groksweep-profile${kernels.name === "fma" ? "-fma" : ""}.wasm`;
const path = fileURLToPath(new URL(`../../build/${file}`, import.meta.url));
const env = { mark: mark as unknown as () => void };
const module = new WebAssembly.Module(new Uint8Array(readFileSync(path)));
const abi = instantiateSync(module, { env }).exports as unknown as Abi;
abi.setWide(kernels.wide ? 1 : 0);
console.log(`profile of the ${kernels.detail} kernels (each mark is a call out of wasm: under Node 24 they cost more)`);

const scale = Number(process.env.PROFILE_STEPS ?? 1);
const configs: { name: string; raw: Record<string, unknown>; steps: number }[] = [
  { name: "small p23 d32 H64", raw: { p: 23, d: 32, H: 64, frac: 0.4 }, steps: 3000 },
  { name: "paper p59 d128 H256", raw: { p: 59, d: 128, H: 256, frac: 0.4 }, steps: 200 },
  { name: "p97 frac 0.3", raw: { p: 97, d: 128, H: 256, frac: 0.3 }, steps: 60 },
  { name: "attn p59", raw: { model: "attn" }, steps: 10 },
];
for (const c of configs) {
  const steps = Math.max(1, Math.round(c.steps * scale));
  prepare(abi, parseRunConfig(c.raw));
  abi.advance(Math.ceil(steps / 5)); // warm-up: V8 tiers the kernels up
  acc.fill(0);
  const t0 = performance.now();
  abi.advance(steps);
  const total = performance.now() - t0;
  const rows = PHASES.map((name, i) => ({
    phase: name,
    ms_per_step: +(acc[i] / steps).toFixed(4),
    share: `${((100 * acc[i]) / total).toFixed(1)} %`,
  })).filter((r, i) => i > 0 && r.ms_per_step > 0);
  console.log(
    `${c.name}: ${(total / steps).toFixed(3)} ms per step ` +
      `(${((steps * 1000) / total).toFixed(1)} steps/s with the marks)`,
  );
  console.table(rows);
}
