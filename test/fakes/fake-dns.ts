// A local DNS server (UDP, the real wire format, via dns-packet) that answers A and AAAA queries from a table:
// the hostile DNS server of the safe-fetching tests (names that answer private addresses, a name that answers
// differently the second time). Names not in the table get NXDOMAIN.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

export type FakeDnsAnswers = Record<string, string[] | (() => string[])>;

export interface FakeDns {
  /** `127.0.0.1:<port>`, for FETCH_DNS_SERVERS. */
  server: string;
  /** Every question asked, as `TYPE name`. */
  questions: string[];
  close(): Promise<void>;
}

export async function startFakeDns(answers: FakeDnsAnswers): Promise<FakeDns> {
  const socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (message, peer) => {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    questions.push(`${question.type} ${name}`);
    const entry = answers[name];
    const addresses = entry === undefined ? null : typeof entry === 'function' ? entry() : entry;
    const family = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : 0;
    const records = (addresses ?? [])
      .filter((a) => isIP(a) === family)
      .map((data) => ({ type: question.type as 'A' | 'AAAA', name: question.name, ttl: 0, class: 'IN' as const, data }));
    const reply = packet.encode({
      id: query.id,
      type: 'response',
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (addresses === null ? 3 : 0), // rcode 3: NXDOMAIN
      questions: [question],
      answers: records,
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
