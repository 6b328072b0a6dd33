import Anthropic from '@anthropic-ai/sdk';
import { FAKE_CITATION_LEAD_IN, startFakeAnthropic, type FakeAnthropic } from './fake-anthropic';

const MODEL = 'claude-sonnet-5-5';

const records = [
  'Maintainers agreed to ship the new release on Friday. Several users asked for a longer beta.',
  'A contributor reported that the migration tool drops indexes! The fix is under review.',
  'Nobody objected to moving the meetings to Tuesday',
  'The security audit found two medium issues. Both have patches.',
  'Documentation for the plugin API is out of date. A rewrite was proposed.',
  'Download numbers doubled after the conference talk. The team thanked the speaker.',
  'A seventh record that the fake must not cite.',
  'An eighth record that the fake must not cite either.',
];

function contentDocument(title: string | null, texts: string[], citations: boolean) {
  return {
    type: 'document' as const,
    source: { type: 'content' as const, content: texts.map((text) => ({ type: 'text' as const, text })) },
    title,
    citations: { enabled: citations },
  };
}

describe('fake Anthropic driven by the real @anthropic-ai/sdk', () => {
  let fake: FakeAnthropic;
  let client: Anthropic;

  beforeEach(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('answers a plain request with a full Message object and records the request', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Summarise the week in open source please' }],
    });

    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'end_turn',
      stop_sequence: null,
      content: [{ type: 'text', text: 'Fake reply to: Summarise the week in open source please', citations: null }],
      usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(message.id).toMatch(/^msg_01[0-9A-Za-z]{22}$/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const replyText = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(message.usage.output_tokens).toBe(Math.ceil(replyText.length / 4));

    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0];
    expect(request).toMatchObject({ method: 'POST', path: '/v1/messages', status: 200 });
    expect(request?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(request?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(request?.body).toMatchObject({ model: MODEL, max_tokens: 256 });
  });

  it('checks the key (x-api-key or bearer) and the anthropic-version header', async () => {
    const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 });
    const error = await wrong.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error' });

    const body = JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const viaHeader = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': fake.apiKey, 'anthropic-version': '2023-06-01' },
      body,
    });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.headers.get('request-id')).toMatch(/^req_/);

    const noVersion = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': fake.apiKey },
      body,
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('anthropic-version') },
      request_id: expect.stringMatching(/^req_/),
    });

    const noKey = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body,
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { type: 'authentication_error' } });
  });

  it('forces tool use with an input derived from the tool schema and the request', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [
        {
          name: 'write_headline',
          description: 'Headline and dek for the digest',
          input_schema: {
            type: 'object',
            properties: {
              headline: { type: 'string' },
              dek: { type: 'string' },
              angle: { type: 'string' },
              confidence: { type: 'number', minimum: 0, maximum: 1 },
              topics: { type: 'array', items: { type: 'string' } },
              publish: { type: 'boolean' },
              optional_note: { type: 'string' },
            },
            required: ['headline', 'dek', 'angle', 'confidence', 'topics', 'publish'],
          },
        },
      ],
      tool_choice: { type: 'tool', name: 'write_headline' },
      messages: [
        {
          role: 'user',
          content: [contentDocument('Week 47', records, false), { type: 'text', text: 'Write the headline.' }],
        },
      ],
    });

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toHaveLength(1);
    const block = message.content[0];
    if (block?.type !== 'tool_use') throw new Error(`expected a tool_use block, got ${block?.type}`);
    expect(block.id).toMatch(/^toolu_/);
    expect(block.name).toBe('write_headline');
    expect(block.input).toEqual({
      headline: 'Maintainers agreed to ship the new release on',
      dek: 'Maintainers agreed to ship the new release on Friday.',
      angle: 'angle for Maintainers agreed to ship the',
      confidence: 0.5,
      topics: [],
      publish: true,
    });
  });

  it('answers citations-enabled content documents with content_block_location citations', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      messages: [
        {
          role: 'user',
          content: [
            contentDocument('Background', ['Context that is not cited.'], false),
            contentDocument('Discussions, week 47', records, true),
            { type: 'text', text: 'Summarise the discussions with citations.' },
          ],
        },
      ],
    });

    expect(message.stop_reason).toBe('end_turn');
    const cited = message.content.filter((b) => b.type === 'text' && b.citations && b.citations.length > 0);
    expect(cited).toHaveLength(6);
    expect(message.content[0]).toEqual({ type: 'text', text: FAKE_CITATION_LEAD_IN, citations: null });
    expect(message.content[1]).toEqual({
      type: 'text',
      text: 'Maintainers agreed to ship the new release on Friday.',
      citations: [
        {
          type: 'content_block_location',
          cited_text: records[0],
          document_index: 1,
          document_title: 'Discussions, week 47',
          start_block_index: 0,
          end_block_index: 1,
          file_id: null,
        },
      ],
    });
    expect(message.content[2]).toEqual({ type: 'text', text: '\n\n', citations: null });
    // Block 2 has no sentence end: its whole text is the sentence.
    const third = cited[2];
    expect(third?.type === 'text' ? third.text : null).toBe('Nobody objected to moving the meetings to Tuesday');
    cited.forEach((block, i) => {
      const citation = block.type === 'text' ? block.citations?.[0] : undefined;
      expect(citation).toMatchObject({
        type: 'content_block_location',
        start_block_index: i,
        end_block_index: i + 1,
        cited_text: records[i],
      });
    });
    expect(message.content).toHaveLength(6 * 2 + 5);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('rejects citations combined with structured output as a BadRequestError', async () => {
    const error = await client.messages
      .create({
        model: MODEL,
        max_tokens: 256,
        output_config: {
          format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        messages: [{ role: 'user', content: [contentDocument('Doc', records.slice(0, 2), true)] }],
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const badRequest = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(badRequest.status).toBe(400);
    expect(badRequest.type).toBe('invalid_request_error');
    expect(badRequest.apiMessage).toMatch(/citations/i);
    expect(badRequest.requestID).toMatch(/^req_/);
    expect(fake.requests).toHaveLength(1);
  });

  it('validates roles, max_tokens and tool_choice with invalid_request_error', async () => {
    const create = (body: Record<string, unknown>) =>
      client.messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming).then(
        () => null,
        (e: unknown) => e as InstanceType<typeof Anthropic.BadRequestError>,
      );

    const twoUsers = await create({
      model: MODEL,
      max_tokens: 16,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    });
    expect(twoUsers).toBeInstanceOf(Anthropic.BadRequestError);
    expect(twoUsers?.apiMessage).toContain('roles must alternate');

    const noMax = await create({ model: MODEL, messages: [{ role: 'user', content: 'a' }] });
    expect(noMax?.apiMessage).toBe('max_tokens: Field required');

    const empty = await create({ model: MODEL, max_tokens: 16, messages: [] });
    expect(empty?.apiMessage).toContain('messages');

    const unknownTool = await create({
      model: MODEL,
      max_tokens: 16,
      tools: [{ name: 'a', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'b' },
      messages: [{ role: 'user', content: 'a' }],
    });
    expect(unknownTool?.status).toBe(400);
    expect(fake.requests.map((r) => r.status)).toEqual([400, 400, 400, 400]);
  });

  it('lets the SDK retry 429 with retry-after (maxRetries) and fails when retries run out', async () => {
    const retrying = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 2 });
    fake.failNext(2, { status: 429, retryAfterSeconds: 0.01 });

    const message = await retrying.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(message.type).toBe('message');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(fake.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
    expect(fake.requests[0]?.responseBody).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    const once = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 1 });
    fake.failNext(2, { status: 429, retryAfterSeconds: 0.01 });
    const error = await once.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error' });
    const rateLimited = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimited.headers.get('retry-after')).toBe('0.01');
    expect(rateLimited.requestID).toBe(fake.requests[4]?.responseHeaders['request-id']);
    expect(fake.requests).toHaveLength(5);
  });

  it('surfaces 529 overloaded and 500 api_error as the SDK typed errors', async () => {
    fake.failNext(1, { status: 529 });
    fake.failNext(1, { status: 500, message: 'boom' });
    const call = () => client.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);

    const overloaded = await call();
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });

    const internal = await call();
    expect(internal).toBeInstanceOf(Anthropic.InternalServerError);
    expect(internal).toMatchObject({ status: 500, type: 'api_error', apiMessage: 'boom' });
  });

  it('lets a test override the next answer with respondWith', async () => {
    const seen: unknown[] = [];
    fake.respondWith((body) => {
      seen.push(body.messages);
      return [{ type: 'text', text: 'overridden' }];
    });
    const ask = () => client.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'question' }] });

    const first = await ask();
    expect(first.content).toEqual([{ type: 'text', text: 'overridden', citations: null }]);
    expect(first.stop_reason).toBe('end_turn');
    expect(seen).toEqual([[{ role: 'user', content: 'question' }]]);

    const second = await ask();
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Fake reply to: question' });

    fake.respondWith(() => ({ content: [{ type: 'text', text: 'cut' }], stop_reason: 'max_tokens' }), 2);
    expect((await ask()).stop_reason).toBe('max_tokens');
    expect((await ask()).stop_reason).toBe('max_tokens');
    expect((await ask()).stop_reason).toBe('end_turn');
  });

  it('counts a cache write on first use of a cached system prompt and cache reads after', async () => {
    const system = [{ type: 'text' as const, text: 'You write Broadsheet. '.repeat(100), cache_control: { type: 'ephemeral' as const } }];
    const ask = (content: string) => client.messages.create({ model: MODEL, max_tokens: 16, system, messages: [{ role: 'user', content }] });

    const first = await ask('first issue');
    const systemTokens = Math.ceil(system[0]!.text.length / 4);
    expect(first.usage.cache_creation_input_tokens).toBe(systemTokens);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(first.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: systemTokens,
      ephemeral_1h_input_tokens: 0,
    });

    const second = await ask('second issue, longer question');
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(systemTokens);
    expect(second.usage.input_tokens).toBeGreaterThan(0);
    expect(second.usage.input_tokens).toBeLessThan(systemTokens);

    const uncached = await client.messages.create({
      model: MODEL,
      max_tokens: 16,
      system: system[0]!.text,
      messages: [{ role: 'user', content: 'no breakpoint' }],
    });
    expect(uncached.usage.cache_read_input_tokens).toBe(0);
    expect(uncached.usage.cache_creation_input_tokens).toBe(0);
    expect(uncached.usage.input_tokens).toBeGreaterThan(systemTokens);
  });

  it('fills structured output from the JSON schema so messages.parse works', async () => {
    const message = await client.messages.parse({
      model: MODEL,
      max_tokens: 256,
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: { headline: { type: 'string' }, rank: { type: 'integer', minimum: 1 } },
            required: ['headline', 'rank'],
            additionalProperties: false,
          },
        },
      },
      messages: [{ role: 'user', content: 'Open source had a quiet week overall. Nothing broke.' }],
    });

    expect(message.parsed_output).toEqual({ headline: 'Open source had a quiet week overall. Nothing', rank: 1 });
  });

  it('serves client.beta.messages (same path; SDK 1.14 adds no ?beta=true query) with anthropic-beta', async () => {
    const message = await client.beta.messages.create({
      model: MODEL,
      max_tokens: 16,
      betas: ['files-api-2025-04-14'],
      messages: [{ role: 'user', content: 'beta hello' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Fake reply to: beta hello' });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/messages', status: 200 });
    expect(fake.requests[0]?.headers['anthropic-beta']).toBe('files-api-2025-04-14');

    const viaQuery = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': fake.apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'query' }] }),
    });
    expect(viaQuery.status).toBe(200);
    expect(fake.requests[1]).toMatchObject({ path: '/v1/messages', query: 'beta=true' });
  });

  describe('Message Batches', () => {
    const params = (text: string) => ({ model: MODEL, max_tokens: 100, messages: [{ role: 'user' as const, content: text }] });

    it('creates a batch, reports it in progress, then ended with its counts, and streams JSONL results matched by custom_id', async () => {
      fake.failNextBatchRequests(1, { type: 'errored', status: 529, errorType: 'overloaded_error' });
      const created = await client.messages.batches.create({
        requests: [
          { custom_id: 'a', params: params('first') },
          { custom_id: 'b', params: params('second') },
          { custom_id: 'c', params: { ...params('third'), max_tokens: 0 } },
        ],
      });
      expect(created).toMatchObject({
        type: 'message_batch',
        processing_status: 'in_progress',
        results_url: null,
        ended_at: null,
        request_counts: { processing: 3, succeeded: 0 },
      });
      expect(created.id).toMatch(/^msgbatch_01/);
      expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3_600_000);
      expect((await client.messages.batches.retrieve(created.id)).processing_status).toBe('in_progress');
      const ended = await client.messages.batches.retrieve(created.id);
      expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 0 } });
      expect(ended.results_url).toBe(`${fake.url}/v1/messages/batches/${created.id}/results`);
      const lines: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
      for await (const line of await client.messages.batches.results(created.id)) lines.push(line);
      expect(lines.map((l) => l.custom_id)).toEqual(['c', 'b', 'a']); // unordered: clients match by custom_id
      const byId = new Map(lines.map((l) => [l.custom_id, l.result]));
      expect(byId.get('a')).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'overloaded_error' } } });
      const b = byId.get('b');
      expect(b?.type === 'succeeded' && b.message.content[0].type === 'text' && b.message.content[0].text).toBe('Fake reply to: second');
      expect(byId.get('c')).toMatchObject({
        type: 'errored',
        error: { error: { type: 'invalid_request_error', message: expect.stringMatching(/max_tokens/) } },
      });
    });

    it('refuses bad custom ids and duplicates, and cancels a batch in progress', async () => {
      await expect(client.messages.batches.create({ requests: [{ custom_id: 'has space', params: params('x') }] })).rejects.toBeInstanceOf(
        Anthropic.BadRequestError,
      );
      await expect(
        client.messages.batches.create({
          requests: [
            { custom_id: 'same', params: params('x') },
            { custom_id: 'same', params: params('y') },
          ],
        }),
      ).rejects.toThrow(/duplicate custom_id/);
      const batch = await client.messages.batches.create({ requests: [{ custom_id: 'only', params: params('x') }] });
      expect((await client.messages.batches.cancel(batch.id)).processing_status).toBe('canceling');
      expect(await client.messages.batches.retrieve(batch.id)).toMatchObject({ processing_status: 'ended', request_counts: { canceled: 1 } });
      await expect(client.messages.batches.retrieve('msgbatch_01nope')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    });

    it('lists batches newest first in pages the SDK follows (after_id / before_id, has_more, first_id, last_id)', async () => {
      const made: string[] = [];
      for (const name of ['one', 'two', 'three'])
        made.push((await client.messages.batches.create({ requests: [{ custom_id: name, params: params(name) }] })).id);
      const newestFirst = [...made].reverse();
      const seen: string[] = [];
      for await (const batch of client.messages.batches.list({ limit: 2 })) seen.push(batch.id);
      expect(seen).toEqual(newestFirst);
      expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/messages/batches').map((r) => r.query)).toEqual([
        'limit=2',
        `limit=2&after_id=${newestFirst[1]}`,
      ]);
      const first = await client.messages.batches.list({ limit: 2 });
      expect(first).toMatchObject({ has_more: true, first_id: newestFirst[0], last_id: newestFirst[1] });
      const older = await client.messages.batches.list({ limit: 2, after_id: newestFirst[1] });
      expect(older).toMatchObject({ has_more: false, first_id: newestFirst[2], last_id: newestFirst[2] });
      const newer = await client.messages.batches.list({ limit: 1, before_id: newestFirst[2] });
      expect(newer.data.map((b) => b.id)).toEqual([newestFirst[1]]);
      expect(newer.has_more).toBe(true);
      await expect(client.messages.batches.list({ limit: 0 })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    });

    it('ends batches unpolled with endBatches, and a 5-minute cache entry expires between requests processed 6 minutes apart (1 hour stays)', async () => {
      await fake.close();
      let now = Date.parse('2026-11-27T12:00:00Z');
      fake = await startFakeAnthropic({ now: () => new Date(now), batchMinutesPerRequest: 6 });
      client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
      const text = 'You write Broadsheet. '.repeat(100);
      const cached = (ttl: '5m' | '1h', i: number) => ({
        custom_id: `${ttl}_${i}`,
        params: { ...params(`question ${i}`), system: [{ type: 'text' as const, text: `${ttl} ${text}`, cache_control: { type: 'ephemeral' as const, ttl } }] },
      });
      const batch = await client.messages.batches.create({
        requests: [0, 1, 2].flatMap((i) => [cached('5m', i)]).concat([0, 1, 2].map((i) => cached('1h', i))),
      });
      expect(batch.created_at).toBe('2026-11-27T12:00:00.000Z');
      await fake.endBatches();
      const ended = await client.messages.batches.retrieve(batch.id);
      expect(ended.processing_status).toBe('ended');
      expect(ended.ended_at).toBe('2026-11-27T12:30:00.000Z');
      const usage = new Map<string, Anthropic.Usage>();
      for await (const line of await client.messages.batches.results(batch.id))
        if (line.result.type === 'succeeded') usage.set(line.custom_id, line.result.message.usage);
      // 5-minute entries are gone 6 minutes later: every request writes again. The 1-hour entry is read.
      expect([0, 1, 2].map((i) => usage.get(`5m_${i}`)!.cache_read_input_tokens)).toEqual([0, 0, 0]);
      expect([0, 1, 2].map((i) => usage.get(`5m_${i}`)!.cache_creation?.ephemeral_5m_input_tokens)).toEqual(
        Array(3).fill(usage.get('5m_0')!.cache_creation_input_tokens),
      );
      expect(usage.get('1h_0')!.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
      expect([1, 2].map((i) => usage.get(`1h_${i}`)!.cache_creation_input_tokens)).toEqual([0, 0]);
      expect([1, 2].map((i) => usage.get(`1h_${i}`)!.cache_read_input_tokens)).toEqual(Array(2).fill(usage.get('1h_0')!.cache_creation_input_tokens));
      // Outside batches the clock is the fake's too: three hours later, unused for over an hour, the 1-hour entry has expired.
      now += 3 * 3_600_000;
      const late = await client.messages.create(cached('1h', 9).params);
      expect(late.usage.cache_read_input_tokens).toBe(0);
      expect(late.usage.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    });

    it('processes batchParallelism requests together: each of a group misses what none found, the next group reads', async () => {
      await fake.close();
      fake = await startFakeAnthropic({ batchParallelism: 3, batchMinutesPerRequest: 1 });
      client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
      const system = [{ type: 'text' as const, text: 'You write Broadsheet. '.repeat(100), cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }];
      const batch = await client.messages.batches.create({
        requests: [0, 1, 2, 3, 4].map((i) => ({ custom_id: `r${i}`, params: { ...params(`question ${i}`), system } })),
      });
      await fake.endBatches();
      const usage = new Map<string, Anthropic.Usage>();
      for await (const line of await client.messages.batches.results(batch.id))
        if (line.result.type === 'succeeded') usage.set(line.custom_id, line.result.message.usage);
      const prefix = usage.get('r0')!.cache_creation_input_tokens!;
      expect(prefix).toBeGreaterThan(0);
      expect([0, 1, 2].map((i) => usage.get(`r${i}`)!.cache_creation?.ephemeral_1h_input_tokens)).toEqual([prefix, prefix, prefix]);
      expect([3, 4].map((i) => [usage.get(`r${i}`)!.cache_read_input_tokens, usage.get(`r${i}`)!.cache_creation_input_tokens])).toEqual([
        [prefix, 0],
        [prefix, 0],
      ]);
      // Two groups one simulated minute apart.
      const ended = await client.messages.batches.retrieve(batch.id);
      expect(Date.parse(ended.ended_at!) - Date.parse(ended.created_at)).toBeGreaterThanOrEqual(60_000);
      expect(Date.parse(ended.ended_at!) - Date.parse(ended.created_at)).toBeLessThan(120_000);
    });
  });
});
