import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class ImportPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportPathError';
  }
}

const MAX_BYTES = 20 * 1024 * 1024;

/**
 * Reads a file that must live inside the import folder: the real path (symlinks resolved) is checked, so
 * `../`, absolute paths and links pointing outside are refused. Capped at 20 MB.
 */
export async function readImportFile(importDir: string, location: string): Promise<Buffer> {
  if (!location || location.includes('\0')) throw new ImportPathError('empty or invalid file path');
  if (isAbsolute(location)) throw new ImportPathError(`"${location}" must be relative to the import folder`);
  const root = await realpath(importDir).catch(() => {
    throw new ImportPathError(`import folder ${importDir} does not exist`);
  });
  const inside = (path: string) => {
    const rel = relative(root, path);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  // Lexically first (so nothing outside is even looked at), then again after symlinks are resolved.
  if (!inside(resolve(root, location))) throw new ImportPathError(`"${location}" is outside the import folder`);
  const target = await realpath(resolve(root, location)).catch(() => {
    throw new ImportPathError(`"${location}" does not exist in the import folder`);
  });
  if (!inside(target)) throw new ImportPathError(`"${location}" is outside the import folder`);
  // stat before open: opening a FIFO or a device would block the poll.
  const info = await stat(target);
  if (!info.isFile()) throw new ImportPathError(`"${location}" is not a regular file`);
  if (info.size > MAX_BYTES) throw new ImportPathError(`"${location}" is ${info.size} bytes, over the ${MAX_BYTES}-byte limit`);
  return readFile(target);
}
