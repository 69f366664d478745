/**
 * The row labels of the transfer table, in one place: the suites write measurements under these
 * names and the targets (targets/transfer-targets.ts) look them up, so a renamed row cannot
 * silently turn a target into "not measured".
 */
export const LABELS = {
  socketRtt: 'bare unix socket round trip',
  socket: 'bare unix socket',
  memcpy: 'memcpy (Buffer.copy)',
  torchGloo: 'torch.distributed gloo send/recv',
  bareGloo: 'bare gloo send/recv (ceiling)',
  bareUcxNode: 'bare UCX read, Node memory (ceiling)',
  bareUcxPool: 'bare UCX read, pool memory (ceiling)',
  emptyCall: 'empty actor call round trip',
  objectStore: 'object store (actor to actor)',
  glooObject: 'gloo GPU object (actor to actor)',
  nixlNode: 'nixl GPU object, Node memory',
  nixlPool: 'nixl GPU object, pool memory',
} as const;
