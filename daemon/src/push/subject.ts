// The VAPID subject: the contact a push service may use about this sender. Apple's push service
// rejects made-up ones (mailto:…@localhost gets 403 BadJwtToken), so it defaults to the https
// publicUrl when one is set, and a placeholder is named as such (doctor, the notifications screen).
export const PLACEHOLDER_SUBJECT = 'mailto:errand@localhost';

export interface VapidSubject {
  subject: string;
  /** Where it came from: push.subject, the publicUrl, or the placeholder. */
  source: 'config' | 'publicUrl' | 'default';
  /** Set while the subject is one a push service may refuse (Apple does). */
  problem?: string;
}

const FAKE_HOST = /(^|\.)(localhost|local|localdomain|invalid|test|internal|lan|home)$/i;

/** Why a subject would be refused, if it would. */
export function subjectProblem(subject: string): string | undefined {
  let url: URL;
  try {
    url = new URL(subject);
  } catch {
    return `"${subject}" is not a mailto: or https: address`;
  }
  if (url.protocol === 'mailto:') {
    const host = url.pathname.split('@')[1]?.toLowerCase() ?? '';
    if (!host.includes('.') || FAKE_HOST.test(host))
      return `the contact ${subject} is a placeholder; Apple refuses pushes signed with it`;
    return undefined;
  }
  if (url.protocol === 'https:') {
    const host = url.hostname.toLowerCase();
    if (!host.includes('.') || FAKE_HOST.test(host) || /^[\d.]+$/.test(host) || host.includes(':'))
      return `the contact ${subject} is not a public https address; Apple may refuse pushes signed with it`;
    return undefined;
  }
  return `"${subject}" is not a mailto: or https: address`;
}

export function vapidSubject(config: { publicUrl?: string; push: { subject?: string } }): VapidSubject {
  const configured = config.push.subject;
  if (configured) {
    const problem = subjectProblem(configured);
    return { subject: configured, source: 'config', ...(problem ? { problem } : {}) };
  }
  if (config.publicUrl) {
    const subject = new URL(config.publicUrl).origin;
    const problem = subjectProblem(subject);
    return { subject, source: 'publicUrl', ...(problem ? { problem } : {}) };
  }
  return {
    subject: PLACEHOLDER_SUBJECT,
    source: 'default',
    problem: `no push contact is set (${PLACEHOLDER_SUBJECT} is a placeholder Apple refuses)`,
  };
}

/** The fix, in one sentence. */
export const SUBJECT_FIX =
  'Set "push": {"subject": "mailto:you@your-domain"} in config.json, or give Errand its https address (`errand expose tailscale` or `errand expose url <https-url>`).';
