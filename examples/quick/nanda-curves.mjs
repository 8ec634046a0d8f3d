// Prints, per run of a sweep with `observe: nanda` (examples/quick/nanda.yaml), when the restricted loss and the
// test loss first fall below 0.5, and the excluded loss at step 0, at its minimum before T_grok, at T_grok and at
// the end: `node examples/quick/nanda-curves.mjs DIR`. Reads the Arrow files with apache-arrow and groksweep's own
// ZSTD codec (curves.arrow is compressed); needs `npm run build` (dist/).
import { readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";
import "../../dist/src/arrow.js"; // registers the ZSTD codec

const dir = process.argv[2] ?? "runs/nanda",
  read = (f) => [...tableFromIPC(readFileSync(`${dir}/${f}`))].map((r) => r.toJSON());
const curves = read("curves.arrow"),
  f2 = (x) => (x ?? NaN).toFixed(2);
const W = [4, 6, 7, 15, 9, 14, 12, 8, 13],
  line = (cols) => console.log(cols.map((v, i) => String(v).padStart(W[i])).join(" "));
line(["seed", "T_mem", "T_grok", "restricted<0.5", "test<0.5", "excluded at 0", "min (step)", "T_grok", "end (step)"]);
for (const run of read("runs.arrow").sort((a, b) => a.run_id - b.run_id)) {
  const c = curves.filter((r) => r.run_id === run.run_id).sort((a, b) => a.step - b.step),
    first = (f) => c.find(f)?.step ?? "–",
    grok = c.find((r) => r.step === run.t_grok),
    lo = c
      .filter((r) => run.t_grok === null || r.step <= run.t_grok)
      .reduce((m, r) => (r.excluded_loss < m.excluded_loss ? r : m)),
    end = c.at(-1);
  const cols = [run.seed, run.t_mem ?? "–", run.t_grok ?? "–", first((r) => r.restricted_loss < 0.5)];
  cols.push(first((r) => r.test_loss < 0.5), f2(c[0].excluded_loss), `${f2(lo.excluded_loss)} (${lo.step})`);
  cols.push(f2(grok?.excluded_loss), `${f2(end.excluded_loss)} (${end.step})`);
  line(cols);
}
