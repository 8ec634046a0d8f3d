// Phase marks for `npm run profile`: only the profile build (asc --use PROFILE=1) imports env.mark;
// in every other build isDefined(PROFILE) is false and the calls and the import compile away.
@external("env", "mark") declare function hostMark(phase: i32): void;

// Phases of a training step, in order: each mark ends the phase named by its argument.
export const P_START = 0, P_TABLES = 1, P_HIDDEN = 2, P_LOGITS = 3, P_LOSS = 4, P_DW2 = 5, P_DH = 6,
             P_BACK_ACT = 7, P_DW1 = 8, P_DE = 9, P_MODEL = 10, P_OPTIM = 11, P_CLAMP = 12;

// @ts-ignore: decorator
@inline export function mark(phase: i32): void { if (isDefined(PROFILE)) hostMark(phase); }
