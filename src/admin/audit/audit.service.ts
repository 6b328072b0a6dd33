import { Injectable } from '@nestjs/common';
import { Clock } from '../../kernel/clock/clock';
import { AdminRepository } from '../admin.repository';
import { type AuditSource } from '../auth/actor';

export interface AuditEntryView {
  id: string;
  at: Date;
  actor: string;
  actorKind: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
}

/** Who did what, when, from where: one row per editor action. */
@Injectable()
export class AuditService {
  constructor(
    private readonly repo: AdminRepository,
    private readonly clock: Clock,
  ) {}

  async record(source: AuditSource, action: string, target: string | null, details: Record<string, unknown> = {}): Promise<void> {
    await this.repo.insertAudit({
      actor: source.actor,
      actorKind: source.actorKind,
      action,
      target,
      details,
      ip: source.ip,
      userAgent: source.userAgent?.slice(0, 300) ?? null,
      at: this.clock.now(),
    });
  }

  async list(input: { limit?: number; beforeId?: string } = {}): Promise<AuditEntryView[]> {
    const rows = await this.repo.listAudit({ limit: Math.min(Math.max(input.limit ?? 100, 1), 500), beforeId: input.beforeId });
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at,
      actor: r.actor,
      actorKind: r.actorKind,
      action: r.action,
      target: r.target,
      details: r.details,
      ip: r.ip,
      userAgent: r.userAgent,
    }));
  }
}
