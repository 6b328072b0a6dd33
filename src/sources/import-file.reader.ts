import { open, realpath } from 'node:fs/promises';
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
export async function readImportFile(importDir: string, location: string): Promise<string> {
  if (!location || location.includes('\0')) throw new ImportPathError('empty or invalid file path');
  if (isAbsolute(location)) throw new ImportPathError(`"${location}" must be relative to the import folder`);
  const root = await realpath(importDir).catch(() => {
    throw new ImportPathError(`import folder ${importDir} does not exist`);
  });
  const target = await realpath(resolve(root, location)).catch(() => {
    throw new ImportPathError(`"${location}" does not exist in the import folder`);
  });
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new ImportPathError(`"${location}" is outside the import folder`);
  }
  const handle = await open(target, 'r');
  try {
    const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) throw new ImportPathError(`"${location}" is not a file`);
    if (size > MAX_BYTES) throw new ImportPathError(`"${location}" is ${size} bytes, over the ${MAX_BYTES}-byte limit`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}
