// The codes the kernels take (assembly/codes.ts, the same file the wasm is compiled from), and the
// option values derived from them: a list is its enum's member names in code order, so Act[name] is
// the code of an --act value and ACTS[code] its name.
import { Act, Arm, Group, Loss, Model, Optim } from "../assembly/codes.js";

export * from "../assembly/codes.js";

type Names<E> = readonly [keyof E & string, ...(keyof E & string)[]];
/** A numeric enum's member names in code order (its object maps each code back to its name too). */
const names = <E extends object>(e: E): Names<E> =>
  Object.values(e).filter((v): v is string => typeof v === "string") as unknown as Names<E>;

export const MODELS = names(Model);
export const ACTS = names(Act);
export const LOSSES = names(Loss);
export const OPTIMS = names(Optim);
export const ARMS = names(Arm);
export const GROUPS = names(Group);
