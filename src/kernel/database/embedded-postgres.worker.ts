import { type Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { EMBEDDED_SETTINGS, WASM_COMPILATION_FLAGS } from './embedded-settings';
import { PortStream, socketLike } from './port-stream';
import { SerialQueue } from './serial-queue';

/**
 * The embedded database's thread (`EmbeddedPostgres` starts it): PGlite, its WASM and the wire protocol run here,
 * off the app's event loop. Each connection arrives as a MessagePort carrying the bytes of one `pg` connection
 * and is served by a pglite-socket protocol handler, in turns through `SerialQueue`.
 */
export interface EmbeddedWorkerData {
  /** Undefined: in memory (tests). */
  dir?: string;
  stallMs?: number;
}

/** From the app to this thread. `external`: a local client's connection (disconnected when it holds the session idle). */
export type ToEmbeddedWorker = { type: 'connect'; port: MessagePort; external: boolean } | { type: 'stop' };
export type FromEmbeddedWorker = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'stopped' } | { type: 'stop-failed'; message: string };

async function main(port: MessagePort, data: EmbeddedWorkerData): Promise<void> {
  let db: PGlite;
  try {
    // Process-wide, read when a compilation starts: set before PGlite compiles its module (embedded-settings.ts).
    setFlagsFromString(WASM_COMPILATION_FLAGS);
    const startParams = [...PGlite.defaultStartParams, ...Object.entries(EMBEDDED_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    db = await PGlite.create({ ...(data.dir ? { dataDir: data.dir } : {}), startParams });
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error).message ?? String(error) } satisfies FromEmbeddedWorker);
    return;
  }
  const queue = new SerialQueue(db, data.stallMs);
  const streams = new Set<Duplex>();
  port.on('message', (message: ToEmbeddedWorker) => {
    if (message.type === 'connect') {
      const stream = socketLike(new PortStream(message.port));
      streams.add(stream);
      const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true });
      if (message.external) queue.addExternal(handler.handlerId, () => stream.destroy());
      stream.on('close', () => {
        streams.delete(stream);
        queue.removeExternal(handler.handlerId);
      });
      stream.on('error', () => undefined);
      void handler.attach(stream as never);
      return;
    }
    void (async () => {
      try {
        for (const stream of streams) stream.destroy();
        streams.clear();
        await queue.drain();
        if (!db.closed) await db.close();
        port.postMessage({ type: 'stopped' } satisfies FromEmbeddedWorker);
      } catch (error) {
        port.postMessage({ type: 'stop-failed', message: (error as Error).message ?? String(error) } satisfies FromEmbeddedWorker);
      }
    })();
  });
  port.postMessage({ type: 'ready' } satisfies FromEmbeddedWorker);
}

if (parentPort) void main(parentPort, workerData as EmbeddedWorkerData);
