// Preloaded into the server by bench/memory.mjs (`node --expose-gc -r ./bench/lib/memory-probe.cjs …`): keeps a
// weak reference to every WebAssembly.Memory the process creates (PGlite's WASM heap) and answers the bench's
// IPC messages 'sample' / 'gc' with the process's memory figures. Not loaded by the app itself.
const v8 = require('node:v8');
const { readFileSync } = require('node:fs');

const memories = [];
const Original = WebAssembly.Memory;
WebAssembly.Memory = new Proxy(Original, {
  construct(target, args) {
    const memory = Reflect.construct(target, args);
    memories.push(new WeakRef(memory));
    return memory;
  },
});

function status(field) {
  const match = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : null;
}

function sample() {
  const usage = process.memoryUsage();
  const live = memories.map((ref) => ref.deref()).filter(Boolean);
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  return {
    rss: usage.rss,
    rssAnon: status('RssAnon'),
    rssFile: status('RssFile'),
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    wasmMemories: live.length,
    wasmMemoryBytes: live.reduce((sum, m) => sum + m.buffer.byteLength, 0),
    codeSpace: spaces.code_space ?? 0,
  };
}

process.on('message', (message) => {
  if (message === 'gc') {
    global.gc?.({ type: 'major', execution: 'sync' });
    global.gc?.();
  }
  if (message === 'gc' || message === 'sample') process.send?.({ sample: sample() });
});
