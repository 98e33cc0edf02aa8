import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMAIL_TEMPLATES } from '@warren/shared/contracts/email';
import { renderEmail } from '../src/domain/email-templates.js';

describe('email templates', () => {
  it('When any template is rendered, then it has a subject, a text and an HTML body that name Warren', () => {
    for (const template of EMAIL_TEMPLATES) {
      // Act
      const email = renderEmail(template, { name: 'Alice', code: '123456', expiresInMinutes: 15, failedLogins: 3 });

      // Assert
      assert.ok(email.subject.length > 0 && email.subject.length < 80, `${template}: subject`);
      assert.match(email.text, /Warren/, `${template}: text`);
      assert.match(email.html, /^<!doctype html>/, `${template}: html`);
      // The verification email goes to a mailbox whose owner may not be the one who typed the name.
      assert.match(email.text, template === 'verify_email' ? /^Hello,\n/ : /^Hello Alice,/, `${template}: greeting`);
    }
  });

  it('When verify_email is rendered, then both bodies carry the code and its validity, and say what to do if you did not register', () => {
    // Act
    const email = renderEmail('verify_email', { code: '654321', expiresInMinutes: 15 });

    // Assert
    assert.match(email.text, /^Hello,/);
    assert.match(email.text, /\b654321\b/);
    assert.match(email.html, /\b654321\b/);
    assert.match(email.text, /valid for 15 minutes/);
    assert.match(email.text, /If you did not register for Warren, ignore this email/);
    assert.ok(!email.subject.includes('654321'), 'the code stays out of the subject (lock screens show it)');
  });

  it('When password_reset is rendered, then it carries the code and says the password is unchanged', () => {
    // Act
    const email = renderEmail('password_reset', { code: '111222', expiresInMinutes: 1 });

    // Assert
    assert.match(email.text, /\b111222\b/);
    assert.match(email.text, /valid for 1 minute\./);
    assert.match(email.text, /If you did not ask for this, ignore this email: your password is unchanged\./);
  });

  it('When account_exists or password_changed is rendered, then it has no code and points to the password reset', () => {
    // Act
    const exists = renderEmail('account_exists', {});
    const changed = renderEmail('password_changed', {});

    // Assert
    for (const email of [exists, changed]) {
      assert.doesNotMatch(email.text, /\b\d{6}\b/);
      assert.match(email.text, /Forgot password/);
    }
    assert.match(exists.text, /already has an account/);
    assert.match(changed.text, /password of your Warren account has just been changed/);
  });

  it('When the name holds HTML, then the HTML body escapes it and the text body keeps it as typed', () => {
    // Arrange
    const name = `<script>alert("x")</script> & O'Brien`;

    // Act
    const email = renderEmail('password_changed', { name });

    // Assert
    assert.ok(!email.html.includes('<script>'), 'no script tag in the HTML');
    assert.ok(email.html.includes('Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#39;Brien,'));
    assert.ok(email.text.includes(`Hello ${name},`));
  });

  it('When a name spans several lines, then the greeting keeps it on one', () => {
    // Act
    const email = renderEmail('password_changed', { name: 'Alice\r\nof\u2028Wonderland' });

    // Assert
    assert.match(email.text, /^Hello Alice of Wonderland,\n/);
  });

  it('When a registration name carries a message or a link, then the verification email does not show it', () => {
    // Arrange: what an attacker types as "name" when registering someone else's address.
    const name = 'Your account is suspended, call +1 555 0100 or visit https://evil.example';

    // Act
    const email = renderEmail('verify_email', { name, code: '123456', expiresInMinutes: 10 });

    // Assert
    assert.match(email.text, /^Hello,\n/);
    for (const body of [email.text, email.html, email.subject]) {
      assert.doesNotMatch(body, /suspended|evil|555/);
    }
  });

  it('When a name looks like a link or an address, then the greeting drops it', () => {
    for (const name of ['https://evil.example/login', 'visit www.evil.test', 'evil.example', 'me@evil.example', 'Bob\u202Eelpmaxe.live']) {
      // Act
      const email = renderEmail('password_changed', { name });

      // Assert
      assert.match(email.text, /^Hello,\n/, name);
    }
  });

  it('When a name holds control or bidi characters or is very long, then the greeting strips them and cuts it', () => {
    // Act
    const hidden = renderEmail('password_changed', { name: 'Al\u0007i\u200Bce\u202E' });
    const long = renderEmail('password_changed', { name: 'A'.repeat(100) });

    // Assert
    assert.match(hidden.text, /^Hello Al i ce,\n/);
    const shown = /^Hello (.*),\n/.exec(long.text)?.[1] ?? '';
    assert.equal([...shown].length, 40);
    assert.ok(shown.endsWith('…'));
  });

  it('When login_failures is rendered, then it gives the count, no code, and points to the password reset', () => {
    // Act
    const email = renderEmail('login_failures', { name: 'Alice', failedLogins: 12 });

    // Assert
    assert.match(email.text, /12 failed sign-in attempts/);
    assert.doesNotMatch(email.text, /\b\d{6}\b/);
    assert.match(email.text, /Forgot password/);
  });

  it('When a template that needs a code gets none, then rendering fails', () => {
    assert.throws(() => renderEmail('verify_email', {}), /needs a code/);
    assert.throws(() => renderEmail('password_reset', {}), /needs a code/);
  });
});
