import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

export class DataDirLockedError extends Error {
  constructor(
    dir: string,
    readonly holder?: LockOwner,
  ) {
    super(
      `Another Broadsheet instance is already using the embedded database in ${dir}` +
        (holder ? ` (process ${holder.pid} on ${holder.host})` : '') +
        '. Stop it first, point DATA_DIR at another folder, or set DATABASE_URL to share a PostgreSQL server.',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Who holds the lock: enough to tell a live holder from a dead one without any clock. */
export interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux /proc/PID/stat field 22): tells a reused PID apart. */
  started: string | null;
  /** The kernel's boot id: a lock from before a reboot is never live. */
  boot: string | null;
  token: string;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function bootId(): string | null {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null;
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
export function processStartTime(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the recorded owner is still running, judged like PostgreSQL's postmaster.pid: by process, never by time. */
export function ownerIsLive(owner: LockOwner): boolean {
  // Another machine's process (a data folder on shared storage) can't be checked from here: assume it lives.
  if (owner.host !== hostname()) return true;
  if (owner.boot && bootId() && owner.boot !== bootId()) return false;
  if (!isAlive(owner.pid)) return false;
  if (owner.started && processStartTime(owner.pid) !== null && processStartTime(owner.pid) !== owner.started) return false;
  return true;
}

/**
 * An exclusive lock on the embedded data folder, held for the life of the process. The lock file names its
 * owner (PID, process start time, boot id, host); whether a lock is stale is decided only by whether that
 * process still runs, so a holder whose event loop is blocked (PGlite's synchronous WASM boot on a loaded
 * machine) keeps its lock however long it is blocked, and a lock left by a killed process is taken over at once.
 * The file is created atomically with its content (link(2) of a finished temp file fails if the lock exists);
 * a stale one is moved aside by rename(2) and removed only if it is still the one judged stale.
 */
export class DataDirLock {
  private released = false;

  private constructor(
    private readonly path: string,
    readonly owner: LockOwner,
  ) {}

  static acquire(path: string, dir: string): DataDirLock {
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      started: processStartTime(process.pid),
      boot: bootId(),
      token: randomBytes(12).toString('hex'),
    };
    const content = `${JSON.stringify(owner)}\n`;
    const temp = `${path}.${owner.token}.tmp`;
    writeFileSync(temp, content, { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(temp, path);
          return new DataDirLock(path, owner);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const seen = readProc(path);
        if (seen === null) continue; // released in between: try again
        const holder = parseOwner(seen);
        if (holder && ownerIsLive(holder)) throw new DataDirLockedError(dir, holder);
        // Stale (its process is gone) or unreadable (a crash while an old version wrote it): move it aside,
        // and delete it only if it is still the content we judged; else it is a newer owner's: put it back.
        const aside = `${path}.${owner.token}.stale`;
        try {
          renameSync(path, aside);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        if (readProc(aside) === seen) unlinkSync(aside);
        else {
          try {
            linkSync(aside, path);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new DataDirLockedError(dir);
            throw error;
          } finally {
            unlinkSync(aside);
          }
        }
      }
      throw new DataDirLockedError(dir);
    } finally {
      unlinkSync(temp);
    }
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const seen = readProc(this.path);
    if (seen !== null && parseOwner(seen)?.token === this.owner.token) unlinkSync(this.path);
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.token !== 'string') return null;
    return { pid: value.pid, host: value.host, started: value.started ?? null, boot: value.boot ?? null, token: value.token };
  } catch {
    return null;
  }
}
