// The run command end to end: output files and their schema, summaries, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC, Type } from "apache-arrow";
import { spawnSync } from "node:child_process";
import { BIN, cli, specFile, tmp } from "./helpers.js";

const SMALL = ["--p", "11", "--d", "8", "--H", "12", "--max-steps", "200"];
const read = (dir: string, name: string) => tableFromIPC(readFileSync(join(dir, name)));

test("--out writes runs/curves/params/splits Arrow files with the documented schema and metadata", () => {
  const dir = join(tmp(), "out");
  const r = cli(["run", ...SMALL, "--seeds", "2", "--save-params", "0,100", "--out", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ["curves.arrow", "params.arrow", "runs.arrow", "splits.arrow"]);
  const runs = read(dir, "runs.arrow");
  assert.equal(runs.numRows, 2);
  const types = Object.fromEntries(runs.schema.fields.map((f) => [f.name, f.type.typeId]));
  for (const k of [
    "run_id",
    "seed",
    "p",
    "d",
    "H",
    "t_int",
    "max_steps",
    "t_mem",
    "t_grok",
    "steps_run",
    "n_train",
    "n_test",
  ])
    assert.equal(types[k], Type.Int, k);
  for (const k of ["lr", "wd", "rho", "frac", "wc", "wc_ref", "final_train_acc", "final_test_acc", "wall_ms"])
    assert.equal(types[k], Type.Float, k);
  for (const k of ["op", "act", "optim", "arm", "status", "task", "model"]) assert.equal(types[k], Type.Utf8, k);
  const meta = runs.schema.metadata;
  assert.match(meta.get("groksweep.version") ?? "", /^\d+\.\d+\.\d+/);
  assert.equal(JSON.parse(meta.get("groksweep.config")!).p, 11);
  const row = runs.get(0)!.toJSON();
  assert.equal(row.status, "censored");
  assert.equal(row.t_grok, null); // censored: null, never −1 or NaN
  assert.equal(row.wc, null);
  assert.equal(row.wc_ref, null);
  assert.equal([...runs.getChild("seed")!].join(), "0,1");
  const curves = read(dir, "curves.arrow");
  assert.deepEqual(
    curves.schema.fields.map((f) => f.name),
    [
      "run_id",
      "step",
      "train_loss",
      "train_acc",
      "test_loss",
      "test_acc",
      "weight_norm",
      "norm_E",
      "norm_W1",
      "norm_W2",
      "spectral_entropy",
      "effective_rank",
      "fourier_gini",
      "norm_embed",
      "norm_attn",
      "norm_mlp",
      "norm_unembed",
      "spec_entropy_W2",
      // appended in 0.3: --observe eff-lr
      "eff_lr",
      "eff_lr_embed",
      "eff_lr_attn",
      "eff_lr_mlp",
      "eff_lr_unembed",
      "logit_scale", // --observe logits
      "frac_saturated",
      "softmax_collapse",
      "zero_loss_frac",
      "restricted_loss", // --observe nanda
      "excluded_loss",
    ],
  );
  const c0 = curves.get(0)!.toJSON();
  assert.equal(c0.step, 0);
  assert.ok(Math.abs(c0.weight_norm - Math.hypot(c0.norm_E, c0.norm_W1, c0.norm_W2)) < 1e-4);
  // the MLP's groups: embed = E, mlp = W1, unembed = W2, no attn
  assert.deepEqual(
    [c0.norm_embed, c0.norm_mlp, c0.norm_unembed, c0.norm_attn],
    [c0.norm_E, c0.norm_W1, c0.norm_W2, null],
  );
  const params = read(dir, "params.arrow");
  assert.equal(params.numRows, 2 * 2 * 5);
  const w1 = [...params].find((x) => x.tensor === "W1")!;
  assert.deepEqual([...w1.shape], [16, 12]);
  assert.equal(w1.values.length, 16 * 12);
  const splits = read(dir, "splits.arrow");
  const train = [...splits].find((x) => x.split === "train")!.pairs.toArray();
  assert.equal(train.length, runs.get(0)!.n_train);
});

test("without --out: a summary table; --json: one JSON record per run", () => {
  const t = cli(["run", ...SMALL]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /status.*t_grok/);
  const j = cli(["run", ...SMALL, "--seeds", "2", "--json"]);
  const rows = JSON.parse(j.stdout);
  assert.equal(rows.length, 2);
  assert.equal(rows[1].seed, 1);
});

test(
  "--out where no directory can be made (under /proc): one line naming --out, exit 2, not a hang",
  {
    skip: !existsSync("/proc/self") && "no /proc here",
  },
  () => {
    // Node's recursive mkdirSync retries the ENOENT there forever (cli-util makeDir)
    const spec = specFile({ p: 11, d: 8, H: 16, "max-steps": 20, seeds: 1 });
    for (const args of [
      ["run", ...SMALL],
      ["sweep", spec, "--quiet"],
    ]) {
      const out = "/proc/groksweep-test/sub";
      const r = spawnSync(process.execPath, [BIN, ...args, "--out", out], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 2, `${args[0]}: ${r.error ?? r.stderr}`);
      assert.match(
        r.stderr.trim(),
        /^groksweep: --out: expected a directory that can be created .*"\/proc\/groksweep-test\/sub"$/,
      );
    }
  },
);

test("a run whose loss blows up stops early as 'diverged' and the process exits 0", () => {
  const r = cli(["run", ...SMALL, "--optim", "sgd", "--lr", "1e10", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const [row] = JSON.parse(r.stdout);
  assert.equal(row.status, "diverged");
  assert.ok(row.steps_run < 200);
});

test("bad input: one line naming the flag and value, exit 2, nothing written", () => {
  const file = join(tmp(), "a-file");
  writeFileSync(file, "x");
  const cases: [string[], RegExp][] = [
    [["--bogus", "3"], /--bogus/],
    [["--p", "1"], /--p.*"1"/],
    [["--frac", "1"], /--frac.*"1"/],
    [["--frac", "0"], /--frac.*"0"/],
    [["--d", "0"], /--d.*"0"/],
    [["--H", "0"], /--H.*"0"/],
    [["--op", "div", "--p", "12"], /--p.*prime.*"12"/],
    [["--arm", "clamp"], /--wc.*missing/],
    [["--lr", "fast"], /--lr.*"fast"/],
    [["--act", "tanh"], /--act.*"tanh"/],
    [["--out", join(file, "sub")], /--out.*not a directory/],
    [["--model", "rnn"], /--model.*"rnn"/],
    [["--model", "attn", "--d", "10"], /--d.*multiple of 4·heads = 16.*10/],
    [["--model", "attn", "--d", "16", "--loss", "mse"], /--loss.*"mse"/],
    [["--task", "parity", "--model", "attn"], /--model.*parity.*"attn"/],
    [["--task", "parity"], /--p: expected omitted for --task parity.*"11"/],
    [["--op", "sym:9"], /--op.*"sym:9"/],
    [["--op", "sym:4", "--p", "23"], /--p.*24.*"23"/],
    [["--frac", "auto:0"], /--frac.*"auto:0"/],
    [["--clamp-group", "attn"], /--clamp-group.*"attn"/],
    [["--optim", "lion"], /--optim.*"lion"/],
  ];
  for (const [args, re] of cases) {
    const out = join(tmp(), "never");
    const base = SMALL.filter((x, i) => !args.includes(x) && !args.includes(SMALL[i - 1]));
    const r = cli(["run", ...base, ...(args.includes("--out") ? [] : ["--out", out]), ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(out), `${args.join(" ")} created ${out}`);
  }
});
