import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The inodes of the sockets a process holds open (Linux: /proc/PID/fd links read `socket:[INODE]`). */
function ownSocketInodes(pid: number | 'self'): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (match) inodes.add(match[1]);
    } catch {
      // closed while listing
    }
  }
  return inodes;
}

function table(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
  } catch {
    return [];
  }
}

/**
 * The sockets a process (default: this one) listens on: TCP ports (IPv4 and IPv6, state 0A = LISTEN) and Unix sockets
 * (flag __SO_ACCEPTCON 0x10000), each as "port" / "path-or-@abstract-or-unnamed" with its inode.
 */
export function listeningSockets(pid: number | 'self' = 'self'): { tcp: Array<{ port: number; inode: string }>; unix: Array<{ path: string; inode: string }> } {
  const own = ownSocketInodes(pid);
  const tcp = [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]
    .flatMap(table)
    .filter((f) => f[3] === '0A' && own.has(f[9]))
    .map((f) => ({ port: parseInt(f[1].split(':')[1], 16), inode: f[9] }));
  const unix = table(`/proc/${pid}/net/unix`)
    .filter((f) => (parseInt(f[3], 16) & 0x10000) !== 0 && own.has(f[6]))
    .map((f) => ({ path: f[7] ?? '(unnamed)', inode: f[6] }));
  return { tcp, unix };
}
