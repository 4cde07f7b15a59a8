// Texts of the broadcast dialog and of /broadcasts: audiences, statuses, one line per campaign.
import type { Audience, CampaignProgress } from '../../lib/contracts';
import { t, trustedHtml, type Language } from '../../lib/i18n';
import { formatUtc } from './withdrawal-views';

export function audienceText(lang: Language, audience: Audience): string {
  switch (audience.kind) {
    case 'all':
      return t(lang, 'broadcast.admin.audience_all');
    case 'active':
      return t(lang, 'broadcast.admin.audience_active', { days: audience.days });
    case 'depositors':
      return t(lang, 'broadcast.admin.audience_depositors');
    case 'language':
      return t(lang, 'broadcast.admin.audience_language', { language: audience.language });
  }
}

export const statusText = (lang: Language, status: CampaignProgress['status']): string =>
  t(lang, `broadcast.admin.status_${status}`);

export function campaignLine(lang: Language, c: CampaignProgress): string {
  return t(lang, 'broadcast.admin.list_line', {
    id: c.campaignId,
    status: trustedHtml(statusText(lang, c.status)),
    audience: trustedHtml(audienceText(lang, c.audience)),
    sent: c.sent,
    total: c.total ?? '—',
    failed: c.failed,
    blocked: c.blocked,
    when: trustedHtml(
      c.startedAt
        ? t(lang, 'broadcast.admin.started_at', { at: formatUtc(c.startedAt) })
        : t(lang, 'broadcast.admin.not_started'),
    ),
  });
}

export function campaignsText(lang: Language, campaigns: readonly CampaignProgress[]): string {
  if (campaigns.length === 0) return t(lang, 'broadcast.admin.list_empty');
  const lines = campaigns.map((c) => campaignLine(lang, c));
  return [t(lang, 'broadcast.admin.list_title', { count: campaigns.length }), ...lines].join('\n\n');
}
