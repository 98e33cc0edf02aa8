import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@warren/shared/config';
import { loadNotificationConfig } from '../src/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadNotificationConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('notification email configuration', () => {
  it('When SMTP_URL and MAIL_FROM are unset outside production, then emails go to the log from the default sender', () => {
    // Act
    const config = loadNotificationConfig({ NODE_ENV: 'development', SMTP_URL: '' });

    // Assert
    assert.equal(config.smtpUrl, undefined);
    assert.deepEqual(config.mailFrom, { name: 'Warren', address: 'no-reply@warren.localhost' });
  });

  it('When NODE_ENV is production and SMTP_URL is unset, then the configuration error names SMTP_URL', () => {
    // Act
    const err = configError({ NODE_ENV: 'production' });

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable), ['SMTP_URL']);
    assert.match(err.message, /SMTP_URL: required when NODE_ENV=production/);
  });

  it('When SMTP_URL and MAIL_FROM are set, then they are used as given', () => {
    // Act
    const config = loadNotificationConfig({
      NODE_ENV: 'production',
      SMTP_URL: 'smtps://user:secret@mail.example.com:465',
      MAIL_FROM: 'ops@example.com',
    });

    // Assert
    assert.equal(config.smtpUrl, 'smtps://user:secret@mail.example.com:465');
    assert.deepEqual(config.mailFrom, { name: '', address: 'ops@example.com' });
  });

  it('When SMTP_URL is not an SMTP URL and MAIL_FROM not a mailbox, then one error names both', () => {
    // Act
    const err = configError({ SMTP_URL: 'http://mail.example.com', MAIL_FROM: 'Warren <not-an-address>' });

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['MAIL_FROM', 'SMTP_URL']);
    assert.match(err.message, /SMTP_URL: must be a URL starting with smtp:\/\/ or smtps:\/\//);
  });

  it('When EMAIL_CONCURRENCY, EMAIL_RETRY_CONCURRENCY and EMAIL_MAX_ATTEMPTS are unset, then 16 fresh and 4 retried emails go out at once and a deferred one is tried 60 times', () => {
    // Act
    const config = loadNotificationConfig({});

    // Assert
    assert.deepEqual(config.email, { concurrency: 16, retryConcurrency: 4, maxAttempts: 60 });
  });

  it('When EMAIL_CONCURRENCY, EMAIL_RETRY_CONCURRENCY or EMAIL_MAX_ATTEMPTS is out of range, then one error names all three', () => {
    // Act
    const err = configError({ EMAIL_CONCURRENCY: '0', EMAIL_RETRY_CONCURRENCY: '65', EMAIL_MAX_ATTEMPTS: 'many' });

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['EMAIL_CONCURRENCY', 'EMAIL_MAX_ATTEMPTS', 'EMAIL_RETRY_CONCURRENCY']);
  });

  it('When MAIL_FROM holds a line break, then it is refused (it would inject a header)', () => {
    // Act
    const err = configError({ MAIL_FROM: 'Warren <a@example.com>\r\nBcc: b@example.com' });

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable), ['MAIL_FROM']);
  });
});
