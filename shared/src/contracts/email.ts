/**
 * `email.requested`: the auth service asks the notification service to send an email. The
 * template is named, not rendered, so wording lives in one place (the notification service).
 * Variables may hold a one-time code: the message is short-lived, never logged.
 */
import { z } from 'zod';
import { text } from './text.js';

export const EMAIL_TEMPLATES = ['verify_email', 'account_exists', 'password_reset', 'password_changed', 'login_failures'] as const;
export const emailTemplateSchema = z.enum(EMAIL_TEMPLATES);
export type EmailTemplate = z.infer<typeof emailTemplateSchema>;

export const emailRequestedSchema = z
  .object({
    to: z.email().max(254),
    template: emailTemplateSchema,
    variables: z
      .object({
        name: text().max(100).optional(),
        code: z.string().regex(/^\d{6}$/).optional(),
        expiresInMinutes: z.number().int().positive().max(1440).optional(),
        /** login_failures: how many failed sign-ins the account saw in the alert's window. */
        failedLogins: z.number().int().positive().max(1_000_000).optional(),
      })
      .strict(),
    requestedAt: z.iso.datetime(),
  })
  .strict()
  .refine((m) => !['verify_email', 'password_reset'].includes(m.template) || m.variables.code !== undefined, {
    message: 'this template needs a code',
    path: ['variables', 'code'],
  });
export type EmailRequested = z.infer<typeof emailRequestedSchema>;
export type EmailRequestedInput = z.input<typeof emailRequestedSchema>;
