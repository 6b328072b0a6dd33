/**
 * PostgreSQL settings for the WASM instance. PGlite's defaults are a server's: 128 MB of shared_buffers, which
 * PostgreSQL allocates in the WASM heap at start (a WebAssembly.Memory can grow but never shrinks; pglite.wasm
 * itself declares a 128 MB minimum, so `initialMemory` can't go lower). Broadsheet's
 * embedded database is a few MB to a few hundred MB, read by one session: 16 MB of buffers is plenty, the OS page
 * cache holds the files anyway (PGlite writes through to DATA_DIR). See bench/memory.mjs for the measurements.
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  wal_buffers: '1MB',
  work_mem: '4MB',
  maintenance_work_mem: '16MB',
  temp_buffers: '4MB',
};

/**
 * V8 compiles pglite.wasm with its baseline compiler (Liftoff) and then recompiles the hot functions with TurboFan,
 * by default on as many background threads as it has. Each of those threads gets a glibc malloc arena, and the
 * compiler's large, short-lived zones are freed into them and kept: after the demo, 50 to 125 MB of the idle
 * server's RSS were such arenas, most of them free memory (bench/memory.mjs; with `MALLOC_MMAP_THRESHOLD_=32768`,
 * which returns such blocks to the system, they held 8 MB). Tiering up on one thread keeps the same optimised code
 * (query speed unchanged in a PGlite query loop) and one arena's worth of retained memory. Liftoff alone
 * (`--liftoff-only`) would save more but runs queries ~45% slower. The flag is read when a compilation starts, so
 * it is set before PGlite compiles its module; it concerns WebAssembly only.
 */
export const WASM_COMPILATION_FLAGS = '--wasm-num-compilation-tasks=1';

/** A local client that holds the session (a transaction, or an extended-protocol exchange before its Sync) and sends nothing for this long is disconnected, which rolls it back. */
export const CLIENT_IDLE_IN_SESSION_MS = 10_000;
