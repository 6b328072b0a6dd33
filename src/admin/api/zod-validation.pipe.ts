import { type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { parseOrThrow } from '../../kernel/errors/parse-or-throw';

/** Validates a request body with zod through the kernel's parseOrThrow: one ValidationError with each field's problem. */
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.output<T> {
    return parseOrThrow(this.schema, value ?? {});
  }
}

/** The body's JSON Schema for the OpenAPI document, generated from the same zod schema that validates it. */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
