import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Role } from './auth/role';

@Entity('admin_users')
export class AdminUser {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') email: string;
  @Column('text') role: Role;
  @Column('text') passwordHash: string;
  /** Wrong passwords in a row since the last success or lock. */
  @Column('int') failedLogins: number;
  @Column('timestamptz', { nullable: true }) lockedUntil: Date | null;
  @Column('timestamptz', { nullable: true }) lastLoginAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('admin_sessions')
export class AdminSession {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') userId: string;
  /** sha256 of the cookie value; the cookie itself is never stored. */
  @Column('text') tokenHash: string;
  @Column('text') csrfToken: string;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('text', { nullable: true }) userAgent: string | null;
  @Column('timestamptz') lastSeenAt: Date;
  @Column('timestamptz') expiresAt: Date;
  @Column('timestamptz', { nullable: true }) revokedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') role: Role;
  /** sha256 of the token; the token is shown once and never stored. */
  @Column('text') tokenHash: string;
  /** The first characters, so people can tell tokens apart. */
  @Column('text') prefix: string;
  @Column('text') createdBy: string;
  @Column('timestamptz', { nullable: true }) lastUsedAt: Date | null;
  @Column('text', { nullable: true }) lastUsedIp: string | null;
  @Column('timestamptz', { nullable: true }) revokedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('admin_login_attempts')
export class LoginAttempt {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  @Column('text') email: string;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('boolean') succeeded: boolean;
  @Column('timestamptz') attemptedAt: Date;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('admin_password_resets')
export class PasswordReset {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') userId: string;
  @Column('text') tokenHash: string;
  @Column('timestamptz') expiresAt: Date;
  @Column('timestamptz', { nullable: true }) usedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('admin_audit_log')
export class AuditEntry {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  /** Who: an editor's email, `token:<name>`, or `cli`. */
  @Column('text') actor: string;
  @Column('text') actorKind: 'user' | 'token' | 'cli' | 'system';
  @Column('text') action: string;
  @Column('text', { nullable: true }) target: string | null;
  @Column('jsonb') details: Record<string, unknown>;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('text', { nullable: true }) userAgent: string | null;
  @Column('timestamptz') at: Date;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

export const adminEntities = [AdminUser, AdminSession, ApiToken, LoginAttempt, PasswordReset, AuditEntry];
