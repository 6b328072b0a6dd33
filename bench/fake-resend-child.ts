// The fake Resend in its own process, so that its work is not charged to the process being measured.
// Started by the send and chaos benchmarks with child_process.fork; answers {cmd:'stats'} over IPC.
import { startFakeResend, type FakeResendOptions } from '../test/fakes/fake-resend';

async function main(): Promise<void> {
  const options = JSON.parse(process.env.FAKE_RESEND_OPTIONS ?? '{}') as FakeResendOptions & { faults?: Record<string, number> };
  const fake = await startFakeResend({ ...options, keepContent: false, light: true });
  if (options.faults) fake.faultRandomly(options.faults);
  process.on('message', (message: { cmd: string; id: number }) => {
    if (message.cmd === 'stats') {
      const perAddress = new Map<string, number>();
      for (const e of fake.emails) for (const to of e.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
      process.send!({
        id: message.id,
        emails: fake.emails.length,
        addresses: perAddress.size,
        duplicates: [...perAddress.values()].reduce((n, c) => n + c - 1, 0),
        requests: fake.requests.length,
        byStatus: fake.requests.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {}),
        maxInAnyWindow: fake.maxInAnyWindow(1000),
        arrivalsOk: fake.arrivals.length,
        firstArrival: fake.arrivals[0] ?? 0,
        lastArrival: fake.arrivals[fake.arrivals.length - 1] ?? 0,
        addressesList: message.cmd === 'stats' && process.env.FAKE_RESEND_LIST === '1' ? [...perAddress.keys()] : undefined,
      });
    }
  });
  process.send!({ ready: true, url: fake.url, apiKey: fake.apiKey });
}

void main();
