import { Duplex } from 'node:stream';
import { type MessagePort } from 'node:worker_threads';

/** Whether the bytes seen so far end with a ReadyForQuery message ('Z', length 5, any status). */
function endsReady(tail: Uint8Array): boolean {
  const n = tail.length;
  return n >= 6 && tail[n - 6] === 0x5a && tail[n - 5] === 0 && tail[n - 4] === 0 && tail[n - 3] === 0 && tail[n - 2] === 5;
}

/**
 * One end of a byte stream between two threads, over a MessagePort: what one end writes, the other reads, in
 * order. Writes made in the same tick (on the thread's end: the same turn of its event loop) go as one message
 * (`pg` writes each protocol message on its own, and so does pglite-socket's handler), copied
 * once into a buffer of their exact size that is transferred, not cloned. Ending one end ends the other (a
 * `null` message); destroying one end (or the death of the thread that holds it) closes the port, which destroys the other.
 *
 * `holdWhileWaiting` (the app's end): the port keeps the process alive only while a request waits for its answer,
 * from a write to the next ReadyForQuery, as the in-process PGlite it replaces never held the process open:
 * a command that forgets to close its database still exits, one that awaits a query is not cut short.
 */
export class PortStream extends Duplex {
  private pending: Uint8Array[] = [];
  private flushQueued = false;
  private tail = new Uint8Array(0);
  private portClosed = false;

  constructor(
    private readonly port: MessagePort,
    private readonly holdWhileWaiting = false,
  ) {
    super({ allowHalfOpen: false });
    port.on('message', (message: Uint8Array | null) => {
      if (message === null) {
        this.push(null);
        return;
      }
      if (this.holdWhileWaiting) this.watchForReady(message);
      this.push(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    });
    port.on('close', () => {
      this.portClosed = true;
      if (!this.destroyed) this.destroy();
    });
    if (holdWhileWaiting) port.unref();
  }

  override _read(): void {
    // Data is pushed as messages arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending.push(chunk);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // The app's end: `pg` writes a request's messages in one go. The thread's end: pglite-socket writes each
      // message's answer from an await; a request's answers go together once its whole chunk is handled.
      if (this.holdWhileWaiting) queueMicrotask(() => this.flush());
      else setImmediate(() => this.flush());
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush();
    if (!this.portClosed) this.port.postMessage(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.pending = [];
    this.portClosed = true;
    this.port.close();
    callback(error);
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0 || this.portClosed) return;
    const size = this.pending.reduce((n, chunk) => n + chunk.byteLength, 0);
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of this.pending) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.pending = [];
    if (this.holdWhileWaiting) this.port.ref();
    this.port.postMessage(bytes, [bytes.buffer]);
  }

  private watchForReady(message: Uint8Array): void {
    const joined = message.byteLength >= 6 ? message.subarray(-6) : Uint8Array.from([...this.tail, ...message].slice(-6));
    this.tail = Uint8Array.from(joined);
    if (endsReady(this.tail) && this.pending.length === 0 && !this.flushQueued) this.port.unref();
  }
}

/** What `pg` and pglite-socket's handler call on a net.Socket, for a stream that has no socket under it. */
export function socketLike<T extends Duplex>(
  stream: T,
): T & { setNoDelay(): T; setKeepAlive(): T; ref(): T; unref(): T; remoteAddress: string; remotePort: number } {
  return Object.assign(stream, {
    setNoDelay: () => stream,
    setKeepAlive: () => stream,
    ref: () => stream,
    unref: () => stream,
    remoteAddress: 'in-process',
    remotePort: 0,
  });
}
