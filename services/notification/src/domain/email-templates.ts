/**
 * The wording of every email Warren sends, one entry per template of the `email.requested`
 * contract (the auth service names a template, it never writes wording). A template is a list
 * of paragraphs and at most one code; the text and HTML forms are both made from that list, so
 * they cannot drift apart, and every variable reaches the HTML through one escaping function.
 *
 * A name is free text someone typed into a form. The verification email never shows it: it goes
 * to an address whose owner has not been heard from yet, so whoever registers could otherwise
 * put a message of their choosing ("click evil.example") into a stranger's inbox under Warren's
 * name. Where an account's own name is shown, it is neutralised first (see `greeting`).
 */
import type { EmailRequested, EmailTemplate } from '@warren/shared/contracts/email';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Variables = EmailRequested['variables'];
type Block = string | { code: string };
interface Content {
  subject: string;
  blocks: Block[];
}

const SIGNATURE = 'The Warren team';

const TEMPLATES: Record<EmailTemplate, (v: Variables) => Content> = {
  verify_email: (v) => ({
    subject: 'Confirm your email address for Warren',
    blocks: [
      // No name: it was typed by whoever registered, who may not own this mailbox.
      greeting(undefined),
      'Use this code to confirm your email address and finish creating your Warren account:',
      { code: requireCode(v, 'verify_email') },
      validity(v.expiresInMinutes),
      'If you did not register for Warren, ignore this email: no account is activated without this code.',
    ],
  }),
  account_exists: (v) => ({
    subject: 'Someone tried to register with your email address',
    blocks: [
      greeting(v.name),
      'Someone tried to register a new Warren account with this email address. ' +
        'This address already has an account, so no new account was created.',
      'If it was you, sign in with your existing password. If you have forgotten it, ' +
        'use "Forgot password" on the sign-in page to reset it.',
      'If it was not you, you can ignore this email: your account has not been changed.',
    ],
  }),
  password_reset: (v) => ({
    subject: 'Reset your Warren password',
    blocks: [
      greeting(v.name),
      'We received a request to reset the password of your Warren account. Use this code to choose a new password:',
      { code: requireCode(v, 'password_reset') },
      validity(v.expiresInMinutes),
      'If you did not ask for this, ignore this email: your password is unchanged.',
    ],
  }),
  password_changed: (v) => ({
    subject: 'Your Warren password was changed',
    blocks: [
      greeting(v.name),
      'The password of your Warren account has just been changed.',
      'If you made this change, there is nothing else to do.',
      'If you did not, reset your password at once with "Forgot password" on the sign-in page, and tell your administrator.',
    ],
  }),
  login_failures: (v) => ({
    subject: 'Failed sign-in attempts on your Warren account',
    blocks: [
      greeting(v.name),
      `There ${v.failedLogins === 1 ? 'was 1 failed sign-in attempt' : `were ${v.failedLogins ?? 'several'} failed sign-in attempts`} ` +
        'on your Warren account in the last few minutes. The addresses they came from are paused for a while; ' +
        'you can still sign in as usual.',
      'If it was you, there is nothing else to do.',
      'If it was not you, your password was not accepted. If it is easy to guess or used elsewhere, ' +
        'change it with "Forgot password" on the sign-in page, and tell your administrator.',
    ],
  }),
};

export function renderEmail(template: EmailTemplate, variables: Variables): RenderedEmail {
  const { subject, blocks } = TEMPLATES[template](variables);
  return { subject, text: toText(blocks), html: toHtml(subject, blocks) };
}

/** Longest name a greeting shows, in code points; a longer one is cut with an ellipsis. */
export const GREETING_NAME_MAX = 40;
/** Control, format (bidi overrides, zero-width) and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
/** Anything a mail client may turn into a link: a scheme, www., an address, a domain name. */
const LINK_LIKE = /[a-z][a-z0-9+.-]*:\/\/|www\.|@|[\p{L}\p{N}-]\.[\p{L}]{2,}(?![\p{L}\p{N}])/iu;

/**
 * "Hello <name>," with the name made harmless: one line, no invisible characters, at most
 * GREETING_NAME_MAX characters, and no name at all if it looks like a link or an address.
 */
function greeting(name: string | undefined): string {
  const clean = name?.replace(INVISIBLE, ' ').replace(/\s+/g, ' ').trim() ?? '';
  if (!clean || LINK_LIKE.test(clean)) return 'Hello,';
  const chars = [...clean];
  const shown = chars.length > GREETING_NAME_MAX ? `${chars.slice(0, GREETING_NAME_MAX - 1).join('').trimEnd()}…` : clean;
  return `Hello ${shown},`;
}

function validity(minutes: number | undefined): string {
  if (minutes === undefined) return 'This code is valid for a limited time only.';
  return `This code is valid for ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

function requireCode(v: Variables, template: EmailTemplate): string {
  // The contract's schema already demands it; this keeps the types honest.
  if (!v.code) throw new Error(`template ${template} needs a code`);
  return v.code;
}

function toText(blocks: Block[]): string {
  const paragraphs = blocks.map((b) => (typeof b === 'string' ? b : `    ${b.code}`));
  return `${[...paragraphs, SIGNATURE].join('\n\n')}\n`;
}

const P = 'margin:0 0 16px;font-size:15px;line-height:1.5';
const CODE = 'margin:0 0 16px;font-size:28px;font-weight:bold;letter-spacing:6px;font-family:Menlo,Consolas,monospace';

function toHtml(subject: string, blocks: Block[]): string {
  const body = blocks
    .map((b) => (typeof b === 'string' ? `<p style="${P}">${escapeHtml(b)}</p>` : `<p style="${CODE}">${escapeHtml(b.code)}</p>`))
    .join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f4f4f5;font-family:Arial,Helvetica,sans-serif;color:#18181b">',
    '<div style="max-width:560px;margin:0 auto;padding:24px;background:#ffffff;border-radius:6px">',
    body,
    `<p style="${P};color:#71717a">${escapeHtml(SIGNATURE)}</p>`,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] as string);
}
