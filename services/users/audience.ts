// Broadcast audiences: registered users who can be messaged (not banned, not marked unreachable), paged by id so a
// campaign of any size is read a page at a time.
import type pg from 'pg';
import type { Contact } from '../../lib/contracts';

export interface AudienceFilter {
  activeWithinDays?: number;
  /** A language prefix: "en" matches en, en-US, en-GB. */
  language?: string;
}

function conditions(filter: AudienceFilter, values: unknown[]): string[] {
  const where = ['NOT is_banned', 'unreachable_at IS NULL'];
  if (filter.activeWithinDays !== undefined) {
    values.push(filter.activeWithinDays);
    where.push(`last_seen_at >= now() - make_interval(days => $${values.length})`);
  }
  if (filter.language !== undefined) {
    values.push(filter.language);
    where.push(`(language_code = $${values.length} OR language_code LIKE $${values.length} || '-%')`);
  }
  return where;
}

/** One page after `afterUserId`, and the id to continue after (null when this was the last page). */
export async function audiencePage(
  pool: pg.Pool,
  filter: AudienceFilter & { afterUserId?: string; limit: number },
): Promise<{ recipients: Contact[]; next: string | null }> {
  const values: unknown[] = [filter.afterUserId ?? '0', filter.limit + 1];
  const where = ['id > $1', ...conditions(filter, values)];
  const { rows } = await pool.query<{
    id: string;
    telegram_id: string;
    language_code: string | null;
    first_name: string | null;
  }>(
    `SELECT id, telegram_id, language_code, first_name FROM users WHERE ${where.join(' AND ')} ORDER BY id LIMIT $2`,
    values,
  );
  const page = rows.slice(0, filter.limit);
  return {
    recipients: page.map((row) => ({
      userId: String(row.id),
      telegramId: String(row.telegram_id),
      languageCode: row.language_code,
      firstName: row.first_name,
    })),
    next: rows.length > filter.limit ? String(page[page.length - 1]!.id) : null,
  };
}

export async function audienceSize(pool: pg.Pool, filter: AudienceFilter): Promise<number> {
  const values: unknown[] = [];
  const { rows } = await pool.query<{ count: string }>(
    `SELECT count(*) AS count FROM users WHERE ${conditions(filter, values).join(' AND ')}`,
    values,
  );
  return Number(rows[0]!.count);
}
