// Estimators against hand-computed values, independent references (scipy) and synthetic data with known truth.
import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/rng.js";
import {
  median,
  censoredMedian,
  Obs,
  mean,
  sd,
  ols,
  sharedSlope,
  leastSquares,
  powerLaw,
  quantile,
  bootstrapCI,
  resample,
  Phi,
  logPhi,
  millsRatio,
  tobit,
} from "../src/stats.js";

const close = (got: number, want: number, tol: number, what = "") =>
  assert.ok(Math.abs(got - want) <= tol, `${what} ${got} vs ${want} (tol ${tol})`);
const C = (t: number): Obs => ({ t, censored: true }),
  O = (t: number): Obs => ({ t, censored: false });

test("median: middle value, average of the two middle values for even counts, any input order", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

test("censored median: censored seeds as +∞; a censored middle value gives a flagged lower bound", () => {
  assert.deepEqual(censoredMedian([O(1), O(2), O(3), C(10), C(10)]), { value: 3, censored: false });
  assert.deepEqual(censoredMedian([O(1), O(2), C(10), C(10), C(10)]), { value: 10, censored: true });
  // even n, exactly half grokked: the upper middle value is censored, so the median is only ≥ (2 + 10)/2
  assert.deepEqual(censoredMedian([O(2), C(10), O(1), C(10)]), { value: 6, censored: true });
  assert.deepEqual(censoredMedian([O(1), O(2), O(3), C(10)]), { value: 2.5, censored: false });
  assert.deepEqual(censoredMedian([C(8), C(9)]), { value: 8.5, censored: true });
  // bounds differ per seed (budgets): the bound is the median with each censored seed at its own budget
  assert.deepEqual(censoredMedian([O(5), C(4), C(20)]), { value: 5, censored: true });
  // the paper's ρ=1.30, lr=1e-3 cell: 4 of 16 censored at 30000, 4 grokked at exactly 30000
  const cell = [25988, 26745, 26745, 27524, 27524, 27524, 28326, 29151, 30000, 30000, 30000, 30000]
    .map(O)
    .concat([C(30000), C(30000), C(30000), C(30000)]);
  assert.deepEqual(censoredMedian(cell), { value: 29575.5, censored: false });
  assert.equal(median(cell.filter((o) => !o.censored).map((o) => o.t)), 27925); // the paper's 27925*
});

test("mean, sample sd (n − 1)", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  close(sd([1, 2, 3, 4]), Math.sqrt(5 / 3), 1e-15);
  assert.ok(Number.isNaN(sd([1])));
});

test("OLS: hand-computed slope, intercept and R²", () => {
  const f = ols([0, 1, 2, 3], [1, 3, 2, 5]);
  close(f.slope, 1.1, 1e-14);
  close(f.intercept, 1.1, 1e-14);
  close(f.r2, 1 - 2.7 / 8.75, 1e-14);
  const exact = ols([0.85, 1, 1.15], [0.85 * 7.5 + 0.7, 7.5 + 0.7, 1.15 * 7.5 + 0.7]);
  close(exact.slope, 7.5, 1e-12);
  close(exact.intercept, 0.7, 1e-12);
  close(exact.r2, 1, 1e-14);
});

test("shared-slope OLS equals least squares with one dummy per group, and recovers exact data", () => {
  const rng = new Rng(1, 1);
  const groups = [0.2, 1.0, -0.5].map((a, g) => {
    const x = Array.from({ length: 3 + g }, (_, i) => 0.85 + 0.1 * i + 0.01 * g);
    return { x, y: x.map((xi) => a + 7.4 * xi + 0.1 * rng.normal()) };
  });
  const f = sharedSlope(groups);
  const X = groups.flatMap((gr, g) => gr.x.map((xi) => [xi, ...groups.map((_, h) => (h === g ? 1 : 0))]));
  const b = leastSquares(
    X,
    groups.flatMap((g) => g.y),
  )!;
  close(f.slope, b[0], 1e-10, "slope");
  f.intercepts.forEach((a, g) => close(a, b[1 + g], 1e-10, `intercept ${g}`));
  // R² about the grand mean, as the paper's collapse R²
  const ys = groups.flatMap((g) => g.y),
    gm = mean(ys);
  const sse = groups.reduce(
    (s, gr, g) => s + gr.x.reduce((t, xi, i) => t + (gr.y[i] - b[1 + g] - b[0] * xi) ** 2, 0),
    0,
  );
  close(f.r2, 1 - sse / ys.reduce((s, y) => s + (y - gm) ** 2, 0), 1e-12, "r2");
  const exact = sharedSlope([
    { x: [1, 2, 3], y: [5, 7, 9] },
    { x: [1, 2], y: [0, 2] },
  ]);
  close(exact.slope, 2, 1e-14);
  assert.deepEqual(
    exact.intercepts.map((a) => +a.toFixed(12)),
    [3, -2],
  );
  assert.throws(() => sharedSlope([{ x: [1, 1], y: [1, 2] }]), /does not vary/);
});

test("power law: exact c·p^β is recovered; noisy data within tolerance", () => {
  const p = [29, 41, 59, 79, 97];
  const f = powerLaw(
    p,
    p.map((x) => 11.5 * x ** 0.38),
  );
  close(f.beta, 0.38, 1e-12);
  close(f.c, 11.5, 1e-10);
  close(f.r2, 1, 1e-12);
  const rng = new Rng(2, 1),
    ps = Array.from({ length: 200 }, (_, i) => 20 + i);
  const g = powerLaw(
    ps,
    ps.map((x) => 3 * x ** 0.44 * Math.exp(0.02 * rng.normal())),
  );
  close(g.beta, 0.44, 0.01);
  assert.throws(() => powerLaw([1, 2], [0, 1]), /positive/);
});

test("quantile interpolates like numpy's default", () => {
  const s = [3, 1, 4, 1, 5, 9, 2, 6].sort((a, b) => a - b);
  close(quantile(s, 0.025), 1, 1e-12);
  close(quantile(s, 0.5), 3.5, 1e-12);
  close(quantile(s, 0.975), 8.475, 1e-12);
});

test("normal cdf, log cdf and Mills ratio match scipy in both tails", () => {
  // scipy.special.ndtr / log_ndtr, and exp(norm.logpdf − log_ndtr)
  const ref: [number, number, number, number][] = [
    [-40, 0, -804.6084420137539, 40.024968847210886],
    [-20, 2.7536241186061556e-89, -203.9171553710973, 20.049753068528293],
    [-8, 6.22096057427174e-16, -35.01343715991456, 8.12136811223618],
    [-7.5, 3.1908916729108844e-14, -31.075890902890006, 7.62896639110379],
    [-7, 1.279812543885835e-12, -27.384307498811076, 7.137545613226497],
    [-5, 2.866515718791933e-7, -15.064998393988727, 5.1865039671258515],
    [-3, 0.0013498980316300933, -6.60772622151035, 3.28309865493044],
    [-1.5, 0.06680720126885807, -2.7059444008238898, 1.9386771666225433],
    [-0.5, 0.3085375387259869, -1.1759117615936188, 1.1410777703680648],
    [0, 0.5, -0.6931471805599453, 0.7978845608028654],
    [0.3, 0.6179114221889526, -0.4814101615884813, 0.6172208536127345],
    [1, 0.8413447460685429, -0.1727537790234499, 0.2875999709391784],
    [2.5, 0.9937903346742238, -0.00622902548586, 0.017637825486916742],
    [5, 0.9999997133484281, -2.8665161296376294e-7, 1.486719940904906e-6],
    [9, 1, -1.1285884059538324e-19, 1.0279773571668901e-18],
  ];
  for (const [z, cdf, lcdf, mills] of ref) {
    close(Phi(z), cdf, 1e-13 * cdf, `Phi(${z})`);
    close(logPhi(z), lcdf, 1e-13 * Math.abs(lcdf), `logPhi(${z})`);
    close(millsRatio(z), mills, 1e-13 * mills, `mills(${z})`);
  }
});

test("bootstrap: reproducible from its seed, and ~95% coverage of α on exponential delays with noise", () => {
  const rhos = [0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25],
    alpha = 7.5;
  const dataset = (rng: Rng) =>
    rhos.map((r) => Array.from({ length: 16 }, () => 0.7 + alpha * r + 0.15 * rng.normal()));
  const est = (cells: number[][]) => ols(rhos, cells.map(median)).slope; // OLS of the cell medians of ln t
  const ciOf = (cells: number[][], seed: number, reps: number) =>
    bootstrapCI(reps, new Rng(seed, 9), (g) => est(cells.map((c) => resample(c, g))));
  const data = dataset(new Rng(3, 1));
  assert.deepEqual(ciOf(data, 5, 300), ciOf(data, 5, 300));
  assert.notDeepEqual(ciOf(data, 5, 300), ciOf(data, 6, 300));
  let covered = 0;
  const n = 150,
    rng = new Rng(4, 1);
  for (let i = 0; i < n; i++) {
    const ci = ciOf(dataset(rng), i, 300);
    assert.equal(ci.nFailed, 0);
    if (ci.lo <= alpha && alpha <= ci.hi) covered++;
  }
  assert.ok(covered / n > 0.87 && covered / n < 0.995, `coverage ${covered}/${n}`);
  const failing = bootstrapCI(10, new Rng(1, 1), () => null);
  assert.equal(failing.nFailed, 10);
  assert.ok(Number.isNaN(failing.lo));
});

test("Tobit: matches scipy's maximum on a censored sample", () => {
  const rho = [0.8, 0.8, 0.8, 0.9, 0.9, 0.9, 1, 1, 1, 1.1, 1.1, 1.1, 1.2, 1.2, 1.2];
  const y = [6.1, 6.5, 6.3, 7, 7.3, 6.8, 7.6, 8.1, 7.9, 8.6, 9, 9, 9, 9, 9];
  const cens = y.map((_, i) => i >= 10);
  const f = tobit(
    rho.map((r) => [1, r]),
    y,
    cens,
  )!;
  // scipy.optimize on −Σ log φ − Σ log Φ (BFGS, then Nelder–Mead polish)
  close(f.coef[0], -0.8460495248315076, 1e-6);
  close(f.coef[1], 8.828661721473791, 1e-6);
  close(f.sigma, 0.23501089273453937, 1e-7);
  close(f.loglik, -1.559512511863721, 1e-9);
});

test("Tobit without censoring is OLS, with σ² = SSE/n", () => {
  const rng = new Rng(5, 1),
    x = Array.from({ length: 40 }, (_, i) => 0.8 + 0.01 * i);
  const y = x.map((r) => 1 + 7 * r + 0.2 * rng.normal());
  const f = tobit(
      x.map((r) => [1, r]),
      y,
      y.map(() => false),
    )!,
    l = ols(x, y);
  close(f.coef[0], l.intercept, 1e-8);
  close(f.coef[1], l.slope, 1e-8);
  const sse = x.reduce((s, r, i) => s + (y[i] - l.intercept - l.slope * r) ** 2, 0);
  close(f.sigma, Math.sqrt(sse / x.length), 1e-9);
});

test("Tobit recovers α under heavy censoring where OLS on truncated medians is biased", (t) => {
  const rng = new Rng(6, 1),
    rhos = [0.85, 0.95, 1.05, 1.15, 1.25, 1.35],
    alpha = 7.5,
    a = 0.7,
    sigma = 0.35;
  const cap = Math.log(22000); // ρ ≥ 1.25 mostly (> half) censored, 1.15 partly
  const X: number[][] = [],
    y: number[] = [],
    cens: boolean[] = [],
    cells: Obs[][] = [];
  for (const r of rhos) {
    const cell: Obs[] = [];
    for (let s = 0; s < 40; s++) {
      const lt = a + alpha * r + sigma * rng.normal(),
        c = lt > cap;
      X.push([1, r]);
      y.push(c ? cap : lt);
      cens.push(c);
      cell.push({ t: c ? cap : lt, censored: c });
    }
    cells.push(cell);
  }
  assert.ok(cells.at(-1)!.filter((o) => o.censored).length > 20, "top cell mostly censored");
  const f = tobit(X, y, cens)!;
  close(f.coef[1], alpha, 0.3, "Tobit α");
  close(f.sigma, sigma, 0.05, "Tobit σ");
  // medians of the grokked seeds only (a truncated sample) flatten the top of the curve
  const some = rhos
    .map((r, i) => ({ r, ts: cells[i].filter((o) => !o.censored).map((o) => o.t) }))
    .filter((c) => c.ts.length);
  const truncated = ols(
    some.map((c) => c.r),
    some.map((c) => median(c.ts)),
  );
  assert.ok(truncated.slope < alpha - 0.5, `OLS on truncated medians: ${truncated.slope}`);
  // medians with censored seeds at the budget are bounded by it: biased too
  const bounded = ols(
    rhos,
    cells.map((c) => censoredMedian(c).value),
  );
  assert.ok(bounded.slope < alpha - 0.5, `OLS on bounded medians: ${bounded.slope}`);
  t.diagnostic(
    `α = ${alpha}: Tobit ${f.coef[1].toFixed(3)}, OLS on truncated medians ${truncated.slope.toFixed(3)}, ` +
      `on bounded medians ${bounded.slope.toFixed(3)}`,
  );
});

test("Tobit: no maximum → null (all censored, or an exact fit)", () => {
  assert.equal(
    tobit(
      [
        [1, 0],
        [1, 1],
        [1, 2],
      ],
      [1, 2, 3],
      [true, true, true],
    ),
    null,
  );
  assert.equal(
    tobit(
      [
        [1, 0],
        [1, 1],
        [1, 2],
      ],
      [1, 2, 3],
      [false, false, true],
    ),
    null,
  ); // 2 observed rows, 2 coefficients
  // a unit whose seeds are all censored: its intercept has no finite maximum
  assert.equal(
    tobit(
      [
        [1, 0, 0],
        [1, 1, 0],
        [1, 2, 0],
        [0, 0, 1],
      ],
      [1, 2.1, 2.9, 5],
      [false, false, false, true],
    ),
    null,
  );
});
