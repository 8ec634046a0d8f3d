// --grokfast (Lee et al. 2024): the kernel's filtered gradient step against a float32 mirror of the authors'
// gradfilter_ema / gradfilter_ma, λ = 0 bit-identical to no filter, and EMA with α = 0 scaling g by 1 + λ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { abi, cfg, cli, tmp, BUILDS } from "./helpers.js";
import { prepare } from "../src/run.js";
import { TENSORS, Params } from "../src/engine.js";
import { Buf } from "../src/codes.js";
import { grokfast } from "../src/options.js";

const f = Math.fround;

for (const spec of ["ema:0.9:2", "ma:3:1.5"]) {
  for (const build of BUILDS) {
    test(`${spec} (${build.name}): five SGD steps equal the float32 mirror of the filter bit for bit`, () => {
      const c = cfg({ optim: "sgd", lr: 0.05, wd: 0, momentum: 0, grokfast: spec });
      const a = abi(build.name),
        { net } = prepare(a, c);
      const [kind, x, lambda] = grokfast(spec),
        l = f(lambda);
      const mu: Params = {},
        ring: Params[] = [],
        sum: Record<string, number[]> = {};
      for (let t = 0; t < 5; t++) {
        const w = net.params();
        a.gradient();
        const g = net.params(Buf.grad),
          want: Params = {};
        for (const name of TENSORS) {
          const gt = g[name].slice(),
            th = w[name].slice();
          if (kind === 1) {
            const m = (mu[name] =
              t === 0 ? gt.slice() : gt.map((gi, i) => f(f(f(x) * mu[name][i]) + f(f(1 - f(x)) * gi))));
            gt.forEach((gi, i) => (gt[i] = f(gi + f(l * m[i]))));
          } else {
            sum[name] ??= Array(gt.length).fill(0);
            const old = ring.length >= x ? ring[ring.length - x][name] : null;
            gt.forEach((gi, i) => (sum[name][i] += gi - (old ? old[i] : 0)));
            if (t + 1 >= x) gt.forEach((gi, i) => (gt[i] = f(gi + f(l * f(sum[name][i] * (1 / x))))));
          }
          want[name] = th.map((v, i) => f(v - f(f(c.lr) * f(f(0 * 0) + gt[i]))));
        }
        if (kind === 2) ring.push(g);
        assert.equal(a.advance(1), 1);
        const got = net.params();
        for (const name of TENSORS) assert.deepEqual(got[name], want[name], `${name} at step ${t + 1}`);
      }
    });
  }
}

const run = (extra: string[]) => {
  const out = tmp();
  const base = ["run", "--p", "13", "--d", "8", "--H", "12", "--frac", "0.5", "--max-steps", "60", "--log", "every:10"];
  assert.equal(cli([...base, ...extra, "--save-params", "60", "--out", out]).code, 0);
  const curves = [...tableFromIPC(readFileSync(join(out, "curves.arrow")))].map((r) => r.toJSON());
  const params = [...tableFromIPC(readFileSync(join(out, "params.arrow")))].map((r) => [...r.values]);
  const row = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))][0].toJSON();
  return { curves, params, row };
};

test("λ = 0 is bit-identical to no filter (ema and ma); the setting is a runs.arrow column", () => {
  const none = run([]);
  for (const spec of ["ema:0.98:0", "ma:5:0"]) {
    const r = run(["--grokfast", spec]);
    assert.deepEqual(r.curves, none.curves, spec);
    assert.deepEqual(r.params, none.params, spec);
    assert.equal(r.row.grokfast, spec);
  }
  assert.equal(none.row.grokfast, "none");
  const paper = run(["--grokfast", "ema:0.98:2"]);
  assert.notDeepEqual(paper.params, none.params); // and the filter does change training
});

test("EMA with α = 0 is (1 + λ)·g: SGD at lr η with ema:0:1 follows SGD at lr 2η", () => {
  const sgd = ["--optim", "sgd", "--wd", "0", "--momentum", "0"];
  const a = run([...sgd, "--lr", "0.02", "--grokfast", "ema:0:1"]),
    b = run([...sgd, "--lr", "0.04"]);
  a.params.forEach((x, k) =>
    x.forEach((v, i) =>
      assert.ok(Math.abs(v - b.params[k][i]) <= 1e-5 * (1 + Math.abs(v)), `${v} vs ${b.params[k][i]}`),
    ),
  );
});

test("bad --grokfast values: one line naming the flag, exit 2", () => {
  for (const v of ["ema:1:2", "ema:0.5:-1", "ma:0:1", "ma:2.5:1", "lowpass"]) {
    const r = cli(["run", "--grokfast", v]);
    assert.equal(r.code, 2, v);
    assert.match(r.stderr, /--grokfast: expected none, ema:α:λ/);
  }
});
