/**
 * Which registrations of a producer are live, readable by consumers without asking it (reads are
 * one-sided): a small file of 8-byte slots, one per live registration, holding a random token
 * that `release` zeroes. A descriptor names its slot and token; a consumer reads the slot
 * (pread on the producer's file, opened once through /proc/<pid>/fd) before it copies, so a read
 * after release fails instead of copying memory the allocator may have handed to another tensor.
 *
 * The file has no name (O_TMPFILE in /dev/shm, or a file unlinked at once): the OS reclaims it
 * when the last process holding it exits, crash or not.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CudaIpcError } from './errors';

/** Linux's O_TMPFILE (__O_TMPFILE | O_DIRECTORY); Node's fs.constants does not name it. */
const O_TMPFILE = 0o20000000 | fs.constants.O_DIRECTORY;
const SLOT_BYTES = 8;

/** Where a registration's liveness is kept, as its descriptor carries it. Plain data. */
export interface TableSlot {
  /** The producer's descriptor of the table file, and its inode (to tell a reused fd number). */
  readonly fd: number;
  readonly ino: string;
  readonly slot: number;
  /** 16 hex digits, never all zero. */
  readonly token: string;
}

/** An unnamed file: O_TMPFILE where the file system has it, else created and unlinked at once. */
function openUnnamed(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDWR | O_TMPFILE, 0o600);
  } catch {
    const file = path.join(dir, `tensorwire-cuda-ipc-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.unlinkSync(file);
    return fd;
  }
}

/** The producer's table. */
export class RegistrationTable {
  readonly fd: number;
  readonly ino: string;
  private readonly free: number[] = [];
  private next = 0;
  private closed = false;

  constructor() {
    const dir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    this.fd = openUnnamed(dir);
    this.ino = String(fs.fstatSync(this.fd).ino);
  }

  /** A slot marked live with a fresh token. */
  add(): TableSlot {
    const slot = this.free.pop() ?? this.next++;
    let token = randomBytes(SLOT_BYTES);
    while (token.every((b) => b === 0)) token = randomBytes(SLOT_BYTES);
    fs.writeSync(this.fd, token, 0, SLOT_BYTES, slot * SLOT_BYTES);
    return { fd: this.fd, ino: this.ino, slot, token: token.toString('hex') };
  }

  /** Marks the slot released (reads of it fail from now on); it may serve a later registration. */
  remove(slot: number): void {
    if (this.closed) return;
    fs.writeSync(this.fd, Buffer.alloc(SLOT_BYTES), 0, SLOT_BYTES, slot * SLOT_BYTES);
    this.free.push(slot);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** A consumer's view of one producer's table. */
export class RemoteTable {
  private constructor(private readonly fd: number) {}

  /**
   * Opens the table of process `pid` (through /proc/<pid>/fd). Returns undefined when the
   * process or its table is gone (it died, or closed its endpoint); throws CUDA_IPC_NOT_PERMITTED
   * when this process may not open it (another user).
   */
  static open(pid: number, slot: Pick<TableSlot, 'fd' | 'ino'>): RemoteTable | undefined {
    let fd: number;
    try {
      fd = fs.openSync(`/proc/${pid}/fd/${slot.fd}`, fs.constants.O_RDONLY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        throw new CudaIpcError(
          'CUDA_IPC_NOT_PERMITTED',
          `cuda-ipc: this process may not open the producer's registration table (/proc/${pid}/fd/${slot.fd}: ${code}); ` +
            'cuda-ipc needs the producer and the consumer to run as the same user (CUDA IPC needs it too)',
        );
      }
      return undefined;
    }
    if (String(fs.fstatSync(fd).ino) !== slot.ino) {
      fs.closeSync(fd); // the fd number now names another file: the table is gone
      return undefined;
    }
    return new RemoteTable(fd);
  }

  /** Whether the slot still holds the token (the registration was not released). */
  live(slot: TableSlot): boolean {
    const b = Buffer.alloc(SLOT_BYTES);
    const n = fs.readSync(this.fd, b, 0, SLOT_BYTES, slot.slot * SLOT_BYTES);
    return n === SLOT_BYTES && b.toString('hex') === slot.token;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
