// examples/k8s-indexed-job.yaml played without Kubernetes: the sweep Job's own container command and args,
// expanded per completion index as the kubelet expands them, with /data and /app mapped to a temporary
// directory and this checkout; one pod is SIGTERMed mid-shard (as on preemption) and started again; then the
// merge Job's command. The merged files must equal a single-machine sweep row for row. And the install init
// container's script, with a stand-in npm: one install per checkout, one pod at a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { tableFromIPC } from "apache-arrow";
import { ROOT, BIN, tmp } from "./helpers.js";
import { loadKernels } from "../src/kernels.js";

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  workingDir?: string;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface Rule {
  action: string;
  onPodConditions?: { type: string }[];
  onExitCodes?: { containerName?: string; operator: string; values: number[] };
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes?: string[];
    completionMode?: string;
    completions?: number;
    backoffLimitPerIndex?: number;
    maxFailedIndexes?: number;
    podFailurePolicy?: { rules: Rule[] };
    template: {
      spec: {
        restartPolicy?: string;
        terminationGracePeriodSeconds?: number;
        initContainers?: Container[];
        containers: Container[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

const YAML_FILE = join(ROOT, "examples", "k8s-indexed-job.yaml");
const docs = parseAllDocuments(readFileSync(YAML_FILE, "utf8")).map((d) => {
  assert.deepEqual(d.errors, [], `${YAML_FILE} parses`);
  return d.toJS() as Manifest;
});
const jobs = docs.filter((d) => d?.kind === "Job");
const sweepJob = jobs.find((j) => j.spec.completionMode === "Indexed")!;
const mergeJob = jobs.find((j) => j !== sweepJob)!;
const pvc = docs.find((d) => d?.kind === "PersistentVolumeClaim")!;
const INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
const N = 3; // shards here (the example has 8)
const RUNS = 12;
const SKIP = /wall_ms|host|_at$|node_version|started|ended|attempt/; // differ between two runs of one sweep

/** The kubelet's $(VAR) expansion of command, args and env values: defined names only, $$ → $. */
const expand = (s: string, env: Record<string, string>) =>
  s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === "$$" ? "$" : (env[name] ?? m)));

/** A container's environment in pod `index` with `cpus` requested, from its env entries. */
function podEnv(c: Container, index: number, cpus: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(e.value, env);
    else if (e.valueFrom?.fieldRef?.fieldPath === INDEX_FIELD) env[e.name] = String(index);
    else if (/^(requests|limits)\.cpu$/.test(e.valueFrom?.resourceFieldRef?.resource ?? "")) env[e.name] = String(cpus);
    else throw new Error(`the test does not know how to set env ${JSON.stringify(e)}`);
  }
  return env;
}

/** Paths in the pod mapped to this machine: /data → data, /app → app (this checkout). */
const local = (s: string, data: string, app = ROOT) =>
  s.replace(/(?<![\w./-])\/(data|app)(?=\/|\s|$)/g, (_, k: string) => (k === "data" ? data : app));

/** A container's argv: command + args, expanded in `env`, paths mapped. */
function argv(c: Container, env: Record<string, string>, data: string, app = ROOT): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])].map((s) => local(expand(s, env), data, app));
}
const cwdOf = (c: Container, data: string, app = ROOT) => (c.workingDir ? local(c.workingDir, data, app) : app);

/** Set the value that follows `flag` in argv (which must hold it). */
function setOption(args: string[], flag: string, value: string): void {
  const i = args.indexOf(flag);
  assert.ok(i > 0 && i + 1 < args.length, `${flag} in ${args.join(" ")}`);
  args[i + 1] = value;
}

/** This environment without Slurm's variables (they would shard instead of JOB_COMPLETION_INDEX), with this
 *  test's node first on PATH (the merge Job's shell finds node there). */
function baseEnv(): Record<string, string> {
  const env = { ...process.env } as Record<string, string>;
  for (const k of Object.keys(env)) if (k.startsWith("SLURM_")) delete env[k];
  return { ...env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}
function start(args: string[], env: Record<string, string>, cwd: string) {
  const [cmd, ...rest] = args;
  const child = spawn(cmd === "node" ? process.execPath : cmd, rest, {
    cwd,
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<Exit>((res) => child.on("close", (code, signal) => res({ code, signal, output })));
  return { child, exited };
}

/** Resolves true once DIR/.parts holds a runs part, false if the process ends first. */
async function firstPart(dir: string, exited: Promise<Exit>): Promise<boolean> {
  let ended = false;
  void exited.then(() => (ended = true));
  while (!ended) {
    try {
      if (readdirSync(join(dir, ".parts")).some((f) => f.endsWith(".runs.arrow"))) return true;
    } catch {
      // not created yet, or removed by the final compaction
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** The rows of an Arrow file restricted to `names`, sorted by run_id (then step). */
function rows(file: string, names: string[]): Record<string, unknown>[] {
  return [...tableFromIPC(readFileSync(file))]
    .map((r) => {
      const j = r.toJSON() as Record<string, unknown>;
      return Object.fromEntries(names.map((n) => [n, j[n]]));
    })
    .sort(
      (a, b) => (a.run_id as number) - (b.run_id as number) || ((a.step as number) ?? 0) - ((b.step as number) ?? 0),
    );
}
const columns = (file: string) => tableFromIPC(readFileSync(file)).schema.fields.map((f) => f.name);

/** The two files hold the same rows in the columns both have, except the time/host ones. */
function assertSameRows(a: string, b: string): void {
  const theirs = new Set(columns(b));
  const names = columns(a).filter((n) => theirs.has(n) && !SKIP.test(n));
  assert.ok(names.includes("run_id") && names.length > 10, names.join());
  assert.deepEqual(rows(a, names), rows(b, names), `${a} vs ${b}`);
}

test("the example's manifests: no shell, RWX volume, per-index retries, the failure policy", () => {
  const pod = sweepJob.spec.template.spec,
    c = pod.containers[0];
  assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
  assert.equal(pod.restartPolicy, "Never");
  assert.ok((pod.terminationGracePeriodSeconds ?? 30) >= 60, "time to write and compact after SIGTERM");
  assert.ok(sweepJob.spec.backoffLimitPerIndex! >= 1 && sweepJob.spec.maxFailedIndexes! >= 0);
  const rules = sweepJob.spec.podFailurePolicy!.rules;
  assert.ok(rules.some((r) => r.action === "Ignore" && r.onPodConditions?.some((p) => p.type === "DisruptionTarget")));
  assert.ok(rules.some((r) => r.action === "FailIndex" && r.onExitCodes?.values.includes(2)));
  assert.equal(c.command?.[0], "node", "exec form: node is the container's process, no shell in between");
  const args = c.args!;
  assert.equal(args[args.indexOf("--shards") + 1], String(sweepJob.spec.completions), "--shards = completions");
  assert.ok(c.env?.some((e) => e.name === "JOB_COMPLETION_INDEX" && e.valueFrom?.fieldRef?.fieldPath === INDEX_FIELD));
  const merge = mergeJob.spec.template.spec.containers[0];
  if (merge.command?.[0] !== "node") assert.match(merge.args!.at(-1)!, /^exec node /, "a shell that execs node");
  for (const j of [sweepJob, mergeJob]) {
    const p = j.spec.template.spec;
    assert.equal(p.restartPolicy, "Never");
    for (const k of [...(p.initContainers ?? []), ...p.containers]) assert.match(k.image, /^node:(2[4-9]|[3-9]\d)\b/);
    assert.deepEqual(
      p.volumes?.map((v) => v.persistentVolumeClaim?.claimName),
      [pvc.metadata.name],
    );
    const mounts = p.containers[0].volumeMounts!.map((m) => m.mountPath).sort();
    assert.deepEqual(mounts, ["/app", "/data"], "the paths this test maps");
  }
});

test(
  "Indexed Job played locally: 3 pods, one SIGTERMed and restarted, then the merge Job = one machine",
  {
    timeout: 240_000,
  },
  async () => {
    const data = tmp("groksweep-k8s-");
    const c = sweepJob.spec.template.spec.containers[0];
    // RUNS short runs of a small model (no stop-at-grok), lr × max-steps with max-steps innermost, so run_id mod 3
    // picks the max-steps: the victim's shard (1) holds the 6000-step runs (~2 s each here), which outlast the
    // first flush of finished runs (after 2 s): a part exists while runs remain. The other shards take a second.
    const spec = {
      name: "k8s",
      p: 23,
      d: 32,
      H: 64,
      frac: 0.8,
      lr: [1e-2, 5e-3, 3e-3, 2e-3],
      "max-steps": [300, 6000, 400],
    };
    const perShard = RUNS / N;
    let kernels = c.args!.includes("--kernels") ? c.args![c.args!.indexOf("--kernels") + 1] : "auto";
    try {
      if (kernels !== "auto") loadKernels(kernels as "fma" | "strict", () => {});
    } catch {
      kernels = "strict"; // this machine does not fuse relaxed_madd: the same pods with the other build
    }
    const pod = (i: number) => {
      const env = podEnv(c, i, 1);
      const args = argv(c, env, data);
      setOption(args, "--shards", String(N));
      if (args.includes("--workers")) setOption(args, "--workers", "1");
      if (args.includes("--kernels")) setOption(args, "--kernels", kernels);
      return { args, env, cwd: cwdOf(c, data) };
    };
    const pods = [...Array(N).keys()].map(pod);
    const specPath = pods[0].args[pods[0].args.indexOf("sweep") + 1];
    mkdirSync(dirname(specPath), { recursive: true });
    writeFileSync(specPath, stringify(spec));
    const outOf = (p: (typeof pods)[number]) => p.args[p.args.indexOf("--out") + 1];
    assert.deepEqual(
      pods.map(outOf),
      [...Array(N).keys()].map((i) => join(data, "out", `shard-${i}`)),
    );

    const ref = tmp();
    const single = start(
      ["node", BIN, "sweep", specPath, "--out", ref, "--workers", "2", "--kernels", kernels],
      {},
      ROOT,
    );
    const running = pods.map((p) => start(p.args, p.env, p.cwd));
    const victim = 1; // the long shard
    if (!(await firstPart(outOf(pods[victim]), running[victim].exited))) {
      const e = await running[victim].exited;
      assert.fail(`pod ${victim} ended (exit ${e.code}) before it wrote a part, nothing to interrupt:\n${e.output}`);
    }
    running[victim].child.kill("SIGTERM");
    const stopped = await running[victim].exited;
    assert.equal(stopped.code, 143, `SIGTERM: valid files, exit 143\n${stopped.output}`);
    assert.ok(!existsSync(join(outOf(pods[victim]), ".parts")), "parts compacted on the way out");
    const kept = rows(join(outOf(pods[victim]), "runs.arrow"), ["run_id"]).length;
    assert.ok(kept >= 1 && kept < perShard, `${kept} runs kept at the signal`);

    // the replacement pod: the same command, resuming the shard
    const again = start(pods[victim].args, pods[victim].env, pods[victim].cwd);
    for (const [i, r] of running.entries()) {
      const e = await (i === victim ? again : r).exited;
      assert.equal(e.code, 0, `pod ${i}: ${e.output}`);
    }
    assert.match((await again.exited).output, new RegExp(`${perShard}/${perShard} runs`));
    for (let i = 0; i < N; i++) {
      const ids = rows(join(outOf(pods[i]), "runs.arrow"), ["run_id"]).map((r) => r.run_id as number);
      assert.deepEqual(
        ids,
        [...Array(perShard).keys()].map((k) => k * N + i),
        `shard ${i} holds run_id mod ${N} = ${i}`,
      );
    }

    const m = mergeJob.spec.template.spec.containers[0];
    const merge = argv(m, podEnv(m, 0, 1), data);
    const all = /--out\s+(\S+)/.exec(merge.join(" "))![1];
    const merged = await start(merge, {}, cwdOf(m, data)).exited;
    assert.equal(merged.code, 0, merged.output);
    assert.match(merged.output, new RegExp(`merged ${RUNS} runs from ${N} directories`));

    const one = await single.exited;
    assert.equal(one.code, 0, one.output);
    assertSameRows(join(all, "runs.arrow"), join(ref, "runs.arrow"));
    assertSameRows(join(all, "curves.arrow"), join(ref, "curves.arrow"));
  },
);

const tools = spawnSync("sh", ["-c", "command -v flock && command -v sha256sum"]).status === 0;
test(
  "the install init container runs npm ci once per checkout, one pod at a time",
  {
    skip: !tools && "flock or sha256sum missing",
  },
  async () => {
    const init = sweepJob.spec.template.spec.initContainers?.find((k) => k.name === "install");
    assert.ok(init, "an init container named install");
    const app = join(tmp(), "app");
    for (const f of ["package.json", "package-lock.json", "tsconfig.json", "asconfig.json", "bin", "src", "assembly"])
      cpSync(join(ROOT, f), join(app, f), { recursive: true });
    const fake = tmp(),
      log = join(fake, "npm.log");
    writeFileSync(join(fake, "npm"), `#!/bin/sh\nsleep 0.3\necho "$*" >> '${log}'\n`, { mode: 0o755 });
    const path = `${fake}${delimiter}${process.env.PATH}`;
    const pod = () => start(argv(init, {}, "/nonexistent", app), { PATH: path }, cwdOf(init, "/nonexistent", app));
    const installs = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
    const wait = async (ps: ReturnType<typeof pod>[]) => {
      for (const p of ps) {
        const e = await p.exited;
        assert.equal(e.code, 0, e.output);
      }
    };
    await wait([pod(), pod(), pod()]); // three pods starting together
    assert.deepEqual(installs(), ["ci --no-audit --no-fund"]);
    await wait([pod()]); // a replacement pod: installed already
    assert.equal(installs().length, 1);
    appendFileSync(join(app, "src", "cli.ts"), "\n"); // a new checkout
    await wait([pod(), pod()]);
    assert.equal(installs().length, 2);
  },
);
