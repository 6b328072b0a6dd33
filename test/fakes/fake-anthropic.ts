// A local fake of Anthropic's Messages API (`POST /v1/messages`, non-streaming), speaking the real wire
// format so that the real `@anthropic-ai/sdk` (1.14) runs against it. Answers are deterministic (see
// the default responder below and test/fakes/README.md).
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_JSON, headerRecord, isRecord, listenOnLoopback, parseJson, readBody, sendJson, stableStringify } from './fake-http';

export type FakeAnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export interface FakeAnthropicOptions {
  /** Key the fake accepts (as `x-api-key` or `authorization: Bearer`). Default: a random `sk-ant-api03-fake-…`. */
  apiKey?: string;
  /**
   * Shortest prefix (in fake tokens) that prompt caching will cache. The real API needs 1024–4096
   * tokens depending on the model and silently skips caching below that; default 0 here so that
   * short test prompts cache.
   */
  minCacheableTokens?: number;
  /**
   * Message Batches: how many `GET /v1/messages/batches/:id` answers say `in_progress` before the batch ends
   * (default 1, so a client that polls until `ended` is exercised). Requests are processed when the batch ends.
   */
  batchPollsBeforeEnd?: number;
  /**
   * The fake's clock for batch timestamps (`created_at`, `ended_at`, `expires_at`) and cache lifetimes; default the
   * wall clock. Tests whose service runs on a FakeClock pass the same clock, as if both sides agreed on the time.
   */
  now?: () => Date;
  /**
   * Message Batches: simulated minutes between processing one request of a batch and the next (default 0: the whole
   * batch at once). With prompt caching this decides whether a 5-minute cache entry written by one request is still
   * there for the next (the real API processes a batch in its own time, up to 24 hours; bench/narratives.bench.ts).
   */
  batchMinutesPerRequest?: number;
  /**
   * Message Batches: how many of a batch's requests are processed at the same moment (default 1: one after the
   * other). Anthropic processes a batch's requests concurrently, and a cache entry becomes readable only once the
   * request writing it has begun answering: requests processed together all miss an entry none of them found, and
   * each writes it. Successive groups are `batchMinutesPerRequest` apart.
   */
  batchParallelism?: number;
}

/** A batch request's outcome forced by a test (`failNextBatchRequests`). */
export type FakeBatchFailure =
  { type: 'errored'; status?: number; errorType?: FakeAnthropicErrorType; message?: string } | { type: 'expired' } | { type: 'canceled' };

export interface FakeBatch {
  id: string;
  requests: Array<{ custom_id: string; params: Record<string, unknown> }>;
  processing_status: 'in_progress' | 'canceling' | 'ended';
  polls: number;
  /** JSONL lines once ended (unordered, as the API promises: reversed here so clients must match by custom_id). */
  results: Array<Record<string, unknown>> | null;
  created_at: string;
  ended_at: string | null;
  cancel_initiated_at: string | null;
}

export interface FakeAnthropicFailure {
  status: number;
  /**
   * Default by status: 400 invalid_request_error, 401 authentication_error, 429 rate_limit_error,
   * 500 api_error, 529 overloaded_error, …
   */
  type?: FakeAnthropicErrorType;
  message?: string;
  /** Sent as `retry-after` (seconds; fractions allowed so tests stay fast — the SDK honours them). */
  retryAfterSeconds?: number;
  /** Only a request whose JSON body this accepts fails (e.g. the judge's call, not the writer's); others pass by. */
  when?: (body: Record<string, unknown>) => boolean;
}

export interface FakeAnthropicRequest {
  method: string;
  /** Path without the query string, e.g. '/v1/messages'. */
  path: string;
  /** Query string without '?', e.g. 'beta=true' ('' when none). */
  query: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  status: number;
  responseBody: unknown;
  /** Headers the fake answered with (besides content-type/length), e.g. request-id, retry-after. */
  responseHeaders: Record<string, string>;
}

/** A response content block as the API sends it (text, tool_use, …). */
export type FakeContentBlock = { type: string } & Record<string, unknown>;

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  server_tool_use: null;
  service_tier: 'standard';
  inference_geo: null;
  output_tokens_details: null;
  speed: null;
}

export interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: FakeContentBlock[];
  stop_reason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: FakeUsage;
}

/**
 * What a `respondWith` handler may return: the content blocks, or part of a message (its `content`
 * at least); anything left out (id, usage, stop_reason, …) is filled in as for a default answer.
 */
export type FakeAnthropicReply = FakeContentBlock[] | (Partial<Omit<FakeMessage, 'usage'>> & { content: FakeContentBlock[]; usage?: Partial<FakeUsage> });

export type FakeAnthropicHandler = (body: Record<string, unknown>) => FakeAnthropicReply | Promise<FakeAnthropicReply>;

export interface FakeAnthropic {
  /** Base URL for the SDK: `new Anthropic({ apiKey, baseURL: url })` or ANTHROPIC_BASE_URL. */
  readonly url: string;
  readonly apiKey: string;
  /** Every request received, in order, with the status answered. */
  readonly requests: FakeAnthropicRequest[];
  /** The next `count` authenticated requests answer this error instead of a message. */
  failNext(count: number, failure: FakeAnthropicFailure): void;
  /** The next `times` valid message requests (default 1; Infinity for all) are answered by `handler`. */
  respondWith(handler: FakeAnthropicHandler, times?: number): void;
  /** Message Batches created so far, by id. */
  readonly batches: Map<string, FakeBatch>;
  /** The next `count` batch requests processed (in request order) end with this result instead of a message. */
  failNextBatchRequests(count: number, failure: FakeBatchFailure): void;
  /**
   * The next batch create is carried out (the batch exists and is processed) but answered with `status` (a 5xx):
   * a server that failed after saving it, or a gateway that timed out in front of it.
   */
  failNextBatchCreateAfterSaving(status: number): void;
  /** Processes every batch still in progress now, as Anthropic does in its own time (without being polled). */
  endBatches(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ERROR_TYPES: Record<number, FakeAnthropicErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_ERROR_MESSAGES: Record<FakeAnthropicErrorType, string> = {
  invalid_request_error: 'Invalid request.',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error:
    'This request would exceed the rate limit for your organization of 50 requests per minute. Please reduce the prompt length or the maximum tokens requested, or try again later.',
  timeout_error: 'Request timed out.',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

/** Plain text blocks inserted before each cited sentence in a citations answer. */
export const FAKE_CITATION_LEAD_IN = 'Participants discussed the following. ';
/** Most content blocks cited per document in a citations answer. */
export const FAKE_MAX_CITED_BLOCKS = 6;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function fakeId(prefix: string): string {
  const bytes = randomBytes(22);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return `${prefix}_01${out}`;
}

/** Fake token count: a quarter of the characters, at least 1 for non-empty text. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

export function firstWords(text: string, count: number): string {
  return text.trim().split(/\s+/).filter(Boolean).slice(0, count).join(' ');
}

/** The first sentence of `text` (up to . ! or ? followed by whitespace or the end), cut to `max` chars. */
export function firstSentence(text: string, max = 200): string {
  const trimmed = text.trim();
  const match = /^[\s\S]*?[.!?](?=\s|$)/.exec(trimmed);
  const sentence = (match ? match[0] : trimmed).trim();
  return sentence.length > max ? sentence.slice(0, max) : sentence;
}

type Json = Record<string, unknown>;

function blocksOf(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isRecord) : [];
}

function messagesOf(body: Json): Json[] {
  return Array.isArray(body.messages) ? body.messages.filter(isRecord) : [];
}

interface DocumentInfo {
  /** Index among all document blocks of the request, in order. */
  index: number;
  block: Json;
  title: string | null;
  citations: boolean;
  /** For `source.type: 'content'`: the text of each content block ('' for non-text blocks). */
  contentTexts: string[] | null;
  /** Text of the document (content blocks joined, or a plain-text source's data). */
  text: string;
}

function documentsOf(body: Json): DocumentInfo[] {
  const docs: DocumentInfo[] = [];
  for (const message of messagesOf(body)) {
    for (const block of blocksOf(message.content)) {
      if (block.type !== 'document') continue;
      const source = isRecord(block.source) ? block.source : {};
      let contentTexts: string[] | null = null;
      let text = '';
      if (source.type === 'content') {
        contentTexts = blocksOf(source.content).map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''));
        text = contentTexts.filter(Boolean).join('\n');
      } else if (source.type === 'text' && typeof source.data === 'string') {
        text = source.data;
      }
      docs.push({
        index: docs.length,
        block,
        title: typeof block.title === 'string' ? block.title : null,
        citations: isRecord(block.citations) && block.citations.enabled === true,
        contentTexts,
        text,
      });
    }
  }
  return docs;
}

/** Text the default answers are derived from: the first document's first text, else the first user text. */
function sourceText(body: Json): string {
  for (const doc of documentsOf(body)) {
    const first = doc.contentTexts?.find((t) => t.trim().length > 0) ?? doc.text;
    if (first.trim()) return first;
  }
  for (const message of messagesOf(body)) {
    if (message.role !== 'user') continue;
    for (const block of blocksOf(message.content)) {
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) return block.text;
    }
  }
  return '';
}

function lastUserText(body: Json): string {
  const users = messagesOf(body).filter((m) => m.role === 'user');
  const last = users[users.length - 1];
  if (!last) return '';
  const texts = blocksOf(last.content)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string);
  return texts.join(' ');
}

function resolveRef(schema: Json, root: Json): Json {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = isRecord(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return isRecord(node) ? node : {};
}

function fakeString(name: string, schema: Json, source: string): string {
  const lower = name.toLowerCase();
  const subject = firstWords(source, 5) || 'the request';
  let value: string;
  switch (schema.format) {
    case 'date-time':
      value = '2026-01-01T00:00:00.000Z';
      break;
    case 'date':
      value = '2026-01-01';
      break;
    case 'uri':
    case 'url':
      value = `https://example.com/${encodeURIComponent(lower || 'value')}`;
      break;
    case 'email':
      value = 'reader@example.com';
      break;
    default:
      if (lower === 'headline' || lower === 'title') value = firstWords(source, 8) || `${name} for the request`;
      else if (lower === 'dek' || lower === 'summary' || lower === 'subtitle') {
        value = firstSentence(source) || `A ${name} for the request.`;
      } else value = `${name || 'value'} for ${subject}`;
  }
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) value = value.slice(0, schema.maxLength);
  if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
    value = value.padEnd(schema.minLength, '.');
  }
  return value;
}

/**
 * A deterministic value that satisfies the common parts of a JSON schema: strings from
 * `fakeString`, numbers 0.5 (clamped to minimum/maximum), integers `minimum ?? 1`, booleans true,
 * arrays `[]` (or `minItems` copies of one item), objects with their required properties (all
 * properties when `required` is absent), enum/const → the first value, anyOf/oneOf → the first
 * non-null option, local `$ref`s resolved.
 */
export function valueForSchema(schemaIn: unknown, name: string, source: string, root?: Json, depth = 0): unknown {
  if (!isRecord(schemaIn) || depth > 12) return null;
  const rootSchema = root ?? schemaIn;
  const schema = resolveRef(schemaIn, rootSchema);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const options = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null) as unknown[] | null;
  if (options) {
    const pick = options.find((o) => isRecord(o) && o.type !== 'null') ?? options[0];
    return valueForSchema(pick, name, source, rootSchema, depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return valueForSchema(schema.allOf[0], name, source, rootSchema, depth + 1);
  }
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? 'null';
  if (type === undefined && isRecord(schema.properties)) type = 'object';
  switch (type) {
    case 'string':
      return fakeString(name, schema, source);
    case 'number': {
      let n = 0.5;
      if (typeof schema.minimum === 'number') n = Math.max(n, schema.minimum);
      if (typeof schema.maximum === 'number') n = Math.min(n, schema.maximum);
      return n;
    }
    case 'integer': {
      let n = typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : 1;
      if (typeof schema.maximum === 'number') n = Math.min(n, Math.floor(schema.maximum));
      return n;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array': {
      const count = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const itemName = name.endsWith('s') ? name.slice(0, -1) : name;
      return Array.from({ length: count }, () => valueForSchema(schema.items, itemName, source, rootSchema, depth + 1));
    }
    case 'object': {
      const properties = isRecord(schema.properties) ? schema.properties : {};
      const keys = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : Object.keys(properties);
      const out: Json = {};
      for (const key of keys) out[key] = valueForSchema(properties[key] ?? {}, key, source, rootSchema, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

function apiError(status: number, type: FakeAnthropicErrorType, message: string, requestId: string | null): Json {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

/** Returns an error message for an invalid Messages request, or null. */
function validateMessages(body: Json, forCountTokens: boolean): string | null {
  if (typeof body.model !== 'string' || body.model.length === 0) return 'model: Field required';
  if (!forCountTokens) {
    if (body.max_tokens === undefined) return 'max_tokens: Field required';
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens)) {
      return 'max_tokens: Input should be a valid integer';
    }
    if (body.max_tokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  }
  if (body.messages === undefined) return 'messages: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Input should be a valid list';
  if (body.messages.length === 0) return 'messages: at least one message is required';
  let previous: unknown;
  for (const [i, message] of body.messages.entries()) {
    if (!isRecord(message)) return `messages.${i}: Input should be a valid dictionary`;
    if (message.role !== 'user' && message.role !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    if (i === 0 && message.role !== 'user') return 'messages: first message must use the "user" role';
    if (message.role === previous) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    previous = message.role;
    const content = message.content;
    if (typeof content === 'string') {
      if (content.length === 0) return `messages.${i}: text content blocks must be non-empty`;
    } else if (Array.isArray(content)) {
      if (content.length === 0) {
        return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
      }
      for (const [j, block] of content.entries()) {
        if (!isRecord(block) || typeof block.type !== 'string') {
          return `messages.${i}.content.${j}.type: Field required`;
        }
        if (block.type === 'text' && (typeof block.text !== 'string' || block.text.length === 0)) {
          return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
        }
        if (block.type === 'document' && !isRecord(block.source)) {
          return `messages.${i}.content.${j}.source: Field required`;
        }
      }
    } else {
      return `messages.${i}.content: Field required`;
    }
  }
  const tools = body.tools;
  if (tools !== undefined && !Array.isArray(tools)) return 'tools: Input should be a valid list';
  const toolNames = new Set<string>();
  for (const [i, tool] of (Array.isArray(tools) ? tools : []).entries()) {
    if (!isRecord(tool) || typeof tool.name !== 'string') return `tools.${i}.name: Field required`;
    if (tool.type === undefined || tool.type === 'custom') {
      if (!isRecord(tool.input_schema)) return `tools.${i}.custom.input_schema: Field required`;
      if (tool.input_schema.type !== 'object') return `tools.${i}.custom.input_schema.type: Input should be 'object'`;
    }
    if (toolNames.has(tool.name)) return `tools: Tool names must be unique.`;
    toolNames.add(tool.name);
  }
  const choice = body.tool_choice;
  if (isRecord(choice)) {
    if ((choice.type === 'tool' || choice.type === 'any') && toolNames.size === 0) {
      return 'tool_choice: tool_choice may only be specified while providing tools.';
    }
    if (choice.type === 'tool' && (typeof choice.name !== 'string' || !toolNames.has(choice.name))) {
      return `tool_choice.name: Tool '${String(choice.name)}' not found in provided tools`;
    }
  }
  const structured = structuredFormat(body);
  if (structured && documentsOf(body).some((d) => d.citations)) {
    return (
      'Citations are not supported in combination with structured outputs (output_config.format). ' +
      'Disable citations on the documents or remove the output format.'
    );
  }
  if (body.stream === true && !forCountTokens) {
    return 'stream: the local fake does not implement streaming; use stream: false';
  }
  return null;
}

/** `output_config.format` (GA) or the older top-level `output_format` (beta), when it is a JSON schema. */
function structuredFormat(body: Json): Json | null {
  const config = isRecord(body.output_config) ? body.output_config : null;
  const format = config && isRecord(config.format) ? config.format : isRecord(body.output_format) ? body.output_format : null;
  return format && format.type === 'json_schema' ? format : null;
}

interface Segment {
  key: string;
  tokens: number;
  breakpoint: '5m' | '1h' | null;
}

/** The request in prompt order (tools, system, messages) as cacheable segments. */
function segmentsOf(body: Json): Segment[] {
  const segments: Segment[] = [];
  const ttl = (block: Json): '5m' | '1h' | null => (isRecord(block.cache_control) ? (block.cache_control.ttl === '1h' ? '1h' : '5m') : null);
  const push = (block: Json, text: string): void => {
    const { cache_control: _ignored, ...rest } = block;
    segments.push({ key: stableStringify(rest), tokens: estimateTokens(text), breakpoint: ttl(block) });
  };
  for (const tool of Array.isArray(body.tools) ? body.tools.filter(isRecord) : []) {
    const { cache_control: _ignored, ...rest } = tool;
    push(tool, JSON.stringify(rest));
  }
  if (typeof body.system === 'string') push({ type: 'text', text: body.system }, body.system);
  else if (Array.isArray(body.system)) {
    for (const block of body.system.filter(isRecord)) {
      push(block, typeof block.text === 'string' ? block.text : JSON.stringify(block));
    }
  }
  for (const message of messagesOf(body)) {
    for (const block of blocksOf(message.content)) {
      let text: string;
      if (block.type === 'text' && typeof block.text === 'string') text = block.text;
      else if (block.type === 'document') {
        const source = isRecord(block.source) ? block.source : {};
        const inner =
          source.type === 'content'
            ? blocksOf(source.content)
                .map((b) => (typeof b.text === 'string' ? b.text : ''))
                .join('\n')
            : typeof source.data === 'string'
              ? source.data
              : '';
        text = [block.title, block.context, inner].filter((s) => typeof s === 'string').join('\n');
      } else text = JSON.stringify(block);
      push({ role: message.role, ...block }, text);
    }
  }
  const format = structuredFormat(body);
  if (format) segments.push({ key: 'format', tokens: estimateTokens(JSON.stringify(format)), breakpoint: null });
  return segments;
}

function textBlock(text: string, citations: Json[] | null = null): FakeContentBlock {
  return { type: 'text', text, citations };
}

function outputTokens(content: FakeContentBlock[]): number {
  let total = 0;
  for (const block of content) {
    if (block.type === 'text' && typeof block.text === 'string') total += estimateTokens(block.text);
    else if (block.type === 'tool_use') total += estimateTokens(JSON.stringify(block.input ?? {})) + 10;
    else total += estimateTokens(JSON.stringify(block));
  }
  return Math.max(1, total);
}

/** The default, deterministic answer (see the file header and README). */
function defaultAnswer(body: Json): { content: FakeContentBlock[]; stop_reason: FakeMessage['stop_reason'] } {
  const source = sourceText(body);
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = isRecord(body.tool_choice) ? body.tool_choice : null;
  const forced = choice?.type === 'tool' ? tools.find((t) => t.name === choice.name) : choice?.type === 'any' ? tools[0] : undefined;
  if (forced) {
    const input = valueForSchema(forced.input_schema, '', source) ?? {};
    return {
      content: [{ type: 'tool_use', id: fakeId('toolu'), name: String(forced.name), input, caller: { type: 'direct' } }],
      stop_reason: 'tool_use',
    };
  }
  const format = structuredFormat(body);
  if (format) {
    return { content: [textBlock(JSON.stringify(valueForSchema(format.schema, '', source)))], stop_reason: 'end_turn' };
  }
  const cited = documentsOf(body).filter((d) => d.citations && d.contentTexts !== null);
  if (cited.length > 0) {
    const content: FakeContentBlock[] = [];
    for (const doc of cited) {
      const texts = doc.contentTexts ?? [];
      for (let i = 0; i < Math.min(FAKE_MAX_CITED_BLOCKS, texts.length); i += 1) {
        const blockText = texts[i] ?? '';
        const sentence = firstSentence(blockText);
        if (!sentence) continue;
        if (content.length > 0) content.push(textBlock('\n\n'));
        content.push(textBlock(FAKE_CITATION_LEAD_IN));
        content.push(
          textBlock(sentence, [
            {
              type: 'content_block_location',
              // The API's cited_text is the whole cited block range, never part of a block.
              cited_text: blockText,
              document_index: doc.index,
              document_title: doc.title,
              start_block_index: i,
              end_block_index: i + 1,
              file_id: null,
            },
          ]),
        );
      }
    }
    if (content.length > 0) {
      // Asked for labelled headline and dek lines (Broadsheet's one-request format): they come first, from the
      // first record's text (its "[platform · author · date]" label left out).
      if (/Headline:/.test(lastUserText(body))) {
        const first = (cited[0].contentTexts ?? []).find((t) => t.trim()) ?? '';
        const plain = first.replace(/^\s*\[[^\]]*\]\s*/, '');
        const headline = firstWords(plain, 8).replace(/[.!?,;:]+$/, '') || 'The conversation';
        content.unshift(textBlock(`Headline: ${headline}\nDek: ${firstSentence(plain)}\n\n`));
      }
      return { content, stop_reason: 'end_turn' };
    }
  }
  const echo = firstWords(lastUserText(body), 12);
  return { content: [textBlock(`Fake reply to: ${echo}`)], stop_reason: 'end_turn' };
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const apiKey = options.apiKey ?? `sk-ant-api03-fake-${randomBytes(16).toString('hex')}`;
  const minCacheable = options.minCacheableTokens ?? 0;
  const requests: FakeAnthropicRequest[] = [];
  const failures: FakeAnthropicFailure[] = [];
  const handlers: { handler: FakeAnthropicHandler; remaining: number }[] = [];
  const now = options.now ?? (() => new Date());
  /** Cache entries by prefix hash: when each expires (a hit refreshes its lifetime, as the API does). */
  const cache = new Map<string, number>();
  const batches = new Map<string, FakeBatch>();
  /** Statuses the next batch creates answer with after saving the batch (`failNextBatchCreateAfterSaving`). */
  const createdThenFailing: number[] = [];
  const minutesPerRequest = options.batchMinutesPerRequest ?? 0;
  const parallelism = Math.max(1, Math.floor(options.batchParallelism ?? 1));
  /** While a group of batch requests is processed together: the cache lifetimes they set, applied after the group. */
  let deferredCacheSets: Array<[string, number]> | null = null;
  const batchFailures: FakeBatchFailure[] = [];
  const batchPolls = options.batchPollsBeforeEnd ?? 1;

  function usageFor(body: Json, content: FakeContentBlock[], at: number): FakeUsage {
    const segments = segmentsOf(body);
    const total = segments.reduce((sum, s) => sum + s.tokens, 0);
    const model = String(body.model);
    // Prefix hash and token count at each cache breakpoint.
    const breakpoints: { hash: string; tokens: number; ttl: '5m' | '1h' }[] = [];
    const hash = createHash('sha256').update(model);
    let running = 0;
    for (const segment of segments) {
      hash.update(segment.key).update('\u0000');
      running += segment.tokens;
      if (segment.breakpoint) {
        breakpoints.push({ hash: hash.copy().digest('hex'), tokens: running, ttl: segment.breakpoint });
      }
    }
    let read = 0;
    let created5m = 0;
    let created1h = 0;
    const eligible = breakpoints.filter((b) => b.tokens >= minCacheable && b.tokens > 0);
    const live = (b: { hash: string }) => (cache.get(b.hash) ?? -Infinity) > at;
    const hit = [...eligible].reverse().find(live);
    if (hit) read = hit.tokens;
    const last = eligible[eligible.length - 1];
    if (last && last.tokens > read) {
      if (last.ttl === '1h') created1h = last.tokens - read;
      else created5m = last.tokens - read;
    }
    for (const b of eligible) {
      const until = at + (b.ttl === '1h' ? 3_600_000 : 300_000);
      if (deferredCacheSets) deferredCacheSets.push([b.hash, until]);
      else cache.set(b.hash, Math.max(cache.get(b.hash) ?? 0, until));
    }
    const created = created5m + created1h;
    return {
      input_tokens: Math.max(0, total - read - created),
      output_tokens: outputTokens(content),
      cache_creation_input_tokens: created,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: created5m, ephemeral_1h_input_tokens: created1h },
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
    };
  }

  /** `at`: when the request is processed (ms since the epoch; a batch's requests are processed later than it is sent). */
  async function buildMessage(body: Json, at = now().getTime()): Promise<FakeMessage> {
    const queued = handlers[0];
    let reply: FakeAnthropicReply | null = null;
    if (queued) {
      queued.remaining -= 1;
      if (queued.remaining <= 0) handlers.shift();
      reply = await queued.handler(body);
    }
    const partial = reply === null ? defaultAnswer(body) : Array.isArray(reply) ? { content: reply } : reply;
    const content = partial.content.map((block) => {
      if (block.type === 'text' && !('citations' in block)) return { ...block, citations: null };
      if (block.type === 'tool_use' && typeof block.id !== 'string') return { ...block, id: fakeId('toolu') };
      return block;
    });
    const usage = { ...usageFor(body, content, at), ...('usage' in partial && partial.usage ? partial.usage : {}) };
    return {
      id: fakeId('msg'),
      type: 'message',
      role: 'assistant',
      model: String(body.model),
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      ...partial,
      content,
      stop_reason: partial.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      usage,
    };
  }

  function batchView(batch: FakeBatch): Json {
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    if (batch.results) for (const line of batch.results) counts[(line.result as { type: keyof typeof counts }).type] += 1;
    else counts.processing = batch.requests.length;
    const created = new Date(batch.created_at);
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: batch.processing_status,
      request_counts: counts,
      ended_at: batch.ended_at,
      created_at: batch.created_at,
      expires_at: new Date(created.getTime() + 24 * 3_600_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: batch.cancel_initiated_at,
      results_url: batch.results ? `${listening.url}/v1/messages/batches/${batch.id}/results` : null,
    };
  }

  /** Processes every request of a batch, in order, as `/v1/messages` would (handlers, cache, validation). */
  async function endBatch(batch: FakeBatch): Promise<void> {
    const results: Array<Record<string, unknown>> = [];
    const start = now().getTime();
    for (const [index, request] of batch.requests.entries()) {
      // A new group of requests processed together starts: the previous group's cache entries become readable.
      if (index % parallelism === 0) flushDeferredCacheSets(parallelism > 1);
      const forced = batch.processing_status === 'canceling' ? ({ type: 'canceled' } as FakeBatchFailure) : batchFailures.shift();
      let result: Json;
      if (forced?.type === 'errored') {
        const type = forced.errorType ?? DEFAULT_ERROR_TYPES[forced.status ?? 500] ?? 'api_error';
        result = { type: 'errored', error: apiError(forced.status ?? 500, type, forced.message ?? DEFAULT_ERROR_MESSAGES[type], null) };
      } else if (forced) result = { type: forced.type };
      else {
        const invalid = validateMessages(request.params, false);
        result = invalid
          ? { type: 'errored', error: apiError(400, 'invalid_request_error', invalid, null) }
          : { type: 'succeeded', message: await buildMessage(request.params, start + Math.floor(index / parallelism) * minutesPerRequest * 60_000) };
      }
      results.push({ custom_id: request.custom_id, result });
    }
    flushDeferredCacheSets(false);
    batch.results = results.reverse();
    batch.processing_status = 'ended';
    batch.ended_at = new Date(start + Math.max(0, Math.ceil(batch.requests.length / parallelism) - 1) * minutesPerRequest * 60_000).toISOString();
  }

  /** Applies the cache lifetimes the last group of batch requests set; `deferNext`: collect the next group's too. */
  function flushDeferredCacheSets(deferNext: boolean): void {
    for (const [hash, until] of deferredCacheSets ?? []) cache.set(hash, Math.max(cache.get(hash) ?? 0, until));
    deferredCacheSets = deferNext ? [] : null;
  }

  async function handleBatch(
    method: string,
    id: string | undefined,
    action: string | undefined,
    parsed: unknown,
    answer: (status: number, body: unknown, extra?: Record<string, string>) => void,
    fail: (status: number, type: FakeAnthropicErrorType, message: string) => void,
    res: ServerResponse,
    entry: FakeAnthropicRequest,
    requestId: string,
  ): Promise<void> {
    if (!id && method === 'GET') return listBatches(new URLSearchParams(entry.query), answer, fail);
    if (!id) {
      if (method !== 'POST') return fail(405, 'invalid_request_error', `Method ${method} not allowed`);
      if (!isRecord(parsed) || !Array.isArray(parsed.requests)) return fail(400, 'invalid_request_error', 'requests: Field required');
      if (parsed.requests.length === 0 || parsed.requests.length > 100_000) {
        return fail(400, 'invalid_request_error', 'requests: a batch holds 1 to 100000 requests');
      }
      const seen = new Set<string>();
      const requests: FakeBatch['requests'] = [];
      for (const [i, request] of parsed.requests.entries()) {
        if (!isRecord(request) || typeof request.custom_id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(request.custom_id)) {
          return fail(400, 'invalid_request_error', `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
        }
        if (seen.has(request.custom_id)) return fail(400, 'invalid_request_error', `requests.${i}.custom_id: duplicate custom_id '${request.custom_id}'`);
        if (!isRecord(request.params)) return fail(400, 'invalid_request_error', `requests.${i}.params: Field required`);
        if (request.params.stream === true) return fail(400, 'invalid_request_error', `requests.${i}.params.stream: streaming is not supported in batches`);
        seen.add(request.custom_id);
        requests.push({ custom_id: request.custom_id, params: request.params });
      }
      const batch: FakeBatch = {
        id: fakeId('msgbatch'),
        requests,
        processing_status: 'in_progress',
        polls: 0,
        results: null,
        created_at: now().toISOString(),
        ended_at: null,
        cancel_initiated_at: null,
      };
      batches.set(batch.id, batch);
      if (createdThenFailing.length) {
        const status = createdThenFailing.shift()!;
        return fail(status, status === 529 ? 'overloaded_error' : 'api_error', 'Internal server error');
      }
      return answer(200, batchView(batch));
    }
    const batch = batches.get(id);
    if (!batch) return fail(404, 'not_found_error', `No batch with id ${id}`);
    if (action === '/cancel') {
      if (method !== 'POST') return fail(405, 'invalid_request_error', `Method ${method} not allowed`);
      if (batch.processing_status === 'in_progress') {
        batch.processing_status = 'canceling';
        batch.cancel_initiated_at = now().toISOString();
      }
      return answer(200, batchView(batch));
    }
    if (method !== 'GET') return fail(405, 'invalid_request_error', `Method ${method} not allowed`);
    if (action === '/results') {
      if (!batch.results) return fail(400, 'invalid_request_error', `Batch ${id} has not finished processing`);
      const body = batch.results.map((line) => JSON.stringify(line)).join('\n') + '\n';
      entry.status = 200;
      entry.responseBody = body;
      entry.responseHeaders = { 'request-id': requestId };
      res.writeHead(200, { 'content-type': 'application/binary', 'content-length': Buffer.byteLength(body), 'request-id': requestId });
      res.end(body);
      return;
    }
    if (!batch.results) {
      batch.polls += 1;
      if (batch.polls > batchPolls || batch.processing_status === 'canceling') await endBatch(batch);
    }
    return answer(200, batchView(batch));
  }

  /**
   * `GET /v1/messages/batches`: newest first, `limit` 1–1000 (default 20); `after_id` gives the page of older batches
   * right after that one, `before_id` the page of newer ones right before it; `first_id`/`last_id` name the page's
   * first and last batch and `has_more` says whether more lie that way (what the SDK's `Page` follows).
   */
  function listBatches(
    query: URLSearchParams,
    answer: (status: number, body: unknown) => void,
    fail: (status: number, type: FakeAnthropicErrorType, message: string) => void,
  ): void {
    const limit = query.has('limit') ? Number(query.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return fail(400, 'invalid_request_error', 'limit: Input should be between 1 and 1000');
    const newestFirst = [...batches.values()].reverse();
    const after = query.get('after_id');
    const before = query.get('before_id');
    let page: FakeBatch[];
    let hasMore: boolean;
    if (before) {
      const at = newestFirst.findIndex((b) => b.id === before);
      if (at < 0) return fail(404, 'not_found_error', `No batch with id ${before}`);
      page = newestFirst.slice(Math.max(0, at - limit), at);
      hasMore = at - limit > 0;
    } else {
      const at = after ? newestFirst.findIndex((b) => b.id === after) : -1;
      if (after && at < 0) return fail(404, 'not_found_error', `No batch with id ${after}`);
      page = newestFirst.slice(at + 1, at + 1 + limit);
      hasMore = at + 1 + limit < newestFirst.length;
    }
    answer(200, { data: page.map(batchView), has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const parsed = parseJson(raw);
    const headers = headerRecord(req);
    const [path = '/', query = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const entry: FakeAnthropicRequest = {
      method: req.method ?? 'GET',
      path,
      query,
      headers,
      body: parsed === INVALID_JSON ? raw : parsed,
      status: 0,
      responseBody: undefined,
      responseHeaders: {},
    };
    requests.push(entry);
    const requestId = fakeId('req');
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      entry.status = status;
      entry.responseBody = body;
      entry.responseHeaders = { 'request-id': requestId, ...extra };
      sendJson(res, status, body, entry.responseHeaders);
    };
    const fail = (status: number, type: FakeAnthropicErrorType, message: string, extra: Record<string, string> = {}) =>
      answer(status, apiError(status, type, message, requestId), extra);

    const bearer = /^Bearer\s+(.+)$/.exec(headers.authorization ?? '')?.[1];
    const key = headers['x-api-key'] ?? bearer;
    if (!key) {
      fail(401, 'authentication_error', 'x-api-key header is required');
      return;
    }
    if (key !== apiKey) {
      fail(401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (!headers['anthropic-version']) {
      fail(400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }

    const failureIndex = failures.findIndex((f) => !f.when || (isRecord(parsed) && f.when(parsed)));
    const failure = failureIndex >= 0 ? failures.splice(failureIndex, 1)[0] : undefined;
    if (failure) {
      const type = failure.type ?? DEFAULT_ERROR_TYPES[failure.status] ?? (failure.status >= 500 ? 'api_error' : 'invalid_request_error');
      const extra: Record<string, string> = {};
      if (failure.retryAfterSeconds !== undefined) extra['retry-after'] = String(failure.retryAfterSeconds);
      fail(failure.status, type, failure.message ?? DEFAULT_ERROR_MESSAGES[type], extra);
      return;
    }

    const batchPath = /^\/v1\/messages\/batches(?:\/([A-Za-z0-9_]+)(\/results|\/cancel)?)?$/.exec(path);
    if (batchPath) {
      await handleBatch(req.method ?? 'GET', batchPath[1], batchPath[2], parsed, answer, fail, res, entry, requestId);
      return;
    }

    const isMessages = path === '/v1/messages';
    const isCount = path === '/v1/messages/count_tokens';
    if (!isMessages && !isCount) {
      fail(404, 'not_found_error', `Not found: ${req.method ?? 'GET'} ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      fail(405, 'invalid_request_error', `Method ${req.method ?? ''} not allowed`);
      return;
    }
    if (parsed === INVALID_JSON || !isRecord(parsed)) {
      fail(400, 'invalid_request_error', 'There was an issue with the request body: it is not a JSON object.');
      return;
    }
    const invalid = validateMessages(parsed, isCount);
    if (invalid) {
      fail(400, 'invalid_request_error', invalid);
      return;
    }
    if (isCount) {
      answer(200, { input_tokens: segmentsOf(parsed).reduce((sum, s) => sum + s.tokens, 0) });
      return;
    }
    answer(200, await buildMessage(parsed));
  }

  const listening = await listenOnLoopback(handle);
  return {
    url: listening.url,
    apiKey,
    requests,
    failNextBatchCreateAfterSaving(status: number): void {
      createdThenFailing.push(status);
    },
    failNext(count: number, failure: FakeAnthropicFailure): void {
      for (let i = 0; i < count; i += 1) failures.push({ ...failure });
    },
    respondWith(handler: FakeAnthropicHandler, times = 1): void {
      handlers.push({ handler, remaining: times });
    },
    batches,
    failNextBatchRequests(count: number, failure: FakeBatchFailure): void {
      for (let i = 0; i < count; i += 1) batchFailures.push({ ...failure });
    },
    async endBatches(): Promise<void> {
      for (const batch of batches.values()) if (!batch.results) await endBatch(batch);
    },
    close: () => listening.close(),
  };
}
