/**
 * The element types and reductions of `allreduce`, as NCCL names them (ncclDataType_t,
 * ncclRedOp_t). Every NCCL type is here; core's `bool` reduces as bytes (sum as logical or,
 * prod as logical and, as PyTorch does); 16-bit integers have no NCCL type and are refused.
 */
import { NcclError } from './errors';

/** Reductions of `allreduce`. */
export type NcclReduceOp = 'sum' | 'min' | 'max' | 'prod';

interface NcclType {
  /** ncclDataType_t. */
  readonly code: number;
  readonly size: number;
  /** First NCCL version (code) that has it. */
  readonly since: number;
}

/** NCCL's types by the names tensorwire (and PyTorch) use. */
export const NCCL_DTYPES: Readonly<Record<string, NcclType>> = Object.freeze({
  int8: { code: 0, size: 1, since: 0 },
  uint8: { code: 1, size: 1, since: 0 },
  int32: { code: 2, size: 4, since: 0 },
  uint32: { code: 3, size: 4, since: 0 },
  int64: { code: 4, size: 8, since: 0 },
  uint64: { code: 5, size: 8, since: 0 },
  float16: { code: 6, size: 2, since: 0 },
  float32: { code: 7, size: 4, since: 0 },
  float64: { code: 8, size: 8, since: 0 },
  bfloat16: { code: 9, size: 2, since: 21003 },
  float8_e4m3fn: { code: 10, size: 1, since: 22403 },
  float8_e5m2: { code: 11, size: 1, since: 22403 },
  bool: { code: 1, size: 1, since: 0 },
});

/** Other spellings: torch-style short names, and NCCL's own. */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  float: 'float32', double: 'float64', half: 'float16', int: 'int32', long: 'int64', byte: 'uint8', char: 'int8',
  bf16: 'bfloat16', float8_e4m3: 'float8_e4m3fn', fp8_e4m3: 'float8_e4m3fn', fp8_e5m2: 'float8_e5m2',
});

/** Every dtype name `allreduce` takes (aliases included). */
export const NCCL_ALLREDUCE_DTYPES: readonly string[] = Object.freeze([...Object.keys(NCCL_DTYPES), ...Object.keys(ALIASES)]);

const OPS: Readonly<Record<NcclReduceOp, number>> = Object.freeze({ sum: 0, prod: 1, max: 2, min: 3 });

export interface ResolvedReduce {
  readonly dtype: string;
  readonly ncclType: number;
  readonly ncclOp: number;
  readonly elementSize: number;
}

/** NCCL's type and reduction for `dtype` and `op`; throws NcclError (INVALID) for what NCCL lacks. */
export function resolveReduce(dtype: string, op: string, versionCode: number): ResolvedReduce {
  const name = ALIASES[dtype] ?? dtype;
  const t = Object.prototype.hasOwnProperty.call(NCCL_DTYPES, name) ? NCCL_DTYPES[name] : undefined;
  if (!t) {
    const hint = name === 'int16' || name === 'uint16' ? ' (NCCL has no 16-bit integer type: reduce it as int32)' : '';
    throw new NcclError('NCCL_UNSUPPORTED_DTYPE', `allreduce: NCCL cannot reduce dtype '${dtype}'${hint}; dtypes: ${Object.keys(NCCL_DTYPES).join(' ')}`);
  }
  if (versionCode < t.since) {
    throw new NcclError('NCCL_UNSUPPORTED_DTYPE', `allreduce: dtype '${dtype}' needs a newer NCCL than the one loaded (code ${versionCode}); update NCCL`);
  }
  if (!Object.prototype.hasOwnProperty.call(OPS, op)) {
    throw new NcclError('NCCL_INVALID_ARGUMENT', `allreduce: unknown op '${op}'; ops: sum prod min max`);
  }
  let ncclOp = OPS[op as NcclReduceOp];
  // Booleans as bytes: or for sum, and for prod (min and max already are).
  if (name === 'bool') ncclOp = op === 'sum' ? OPS.max : op === 'prod' ? OPS.min : ncclOp;
  return { dtype: name, ncclType: t.code, ncclOp, elementSize: t.size };
}
