/**
 * The signed-out screens: sign in, create an account (register → the emailed code → signed in),
 * and reset a forgotten password (the emailed code → a new password). Routes: #/ (sign in),
 * #/register, #/forgot. Every refusal shows the server's own words (problem details `detail`
 * and, for a 400, its field errors).
 */
import { bdi, capitalise, field, h, statusLine } from './dom.js';
import { fieldErrors, problemText } from './format.js';

const PASSWORD_HINT = 'At least 8 characters. Very common passwords are refused.';
const CODE_ATTRS = { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', required: true };
const LABELS = { email: 'Email', password: 'Password', name: 'Name', code: 'Code', newPassword: 'New password' };

/**
 * @param {'login'|'register'|'forgot'} route
 * @param {{client: any, config: any, go: (route: string) => void, notice?: string, error?: string, email?: string}} ctx
 */
export function authView(route, ctx) {
  if (route === 'register') return registerView(ctx);
  if (route === 'forgot') return forgotView(ctx);
  return loginView(ctx);
}

function card(id, title, ...children) {
  return h('section', { id, class: 'card auth', 'aria-labelledby': `${id}-title` }, h('h1', { id: `${id}-title`, tabindex: '-1' }, title), ...children);
}

function emailInput(id, value = '') {
  const input = h('input', { id, name: 'email', type: 'email', autocomplete: 'username', required: true, maxlength: '254' });
  input.value = value;
  return input;
}

/** Runs a form's submit with its button disabled and a refusal shown in `status`. */
function onSubmit(form, button, status, busyText, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.clear();
    const idle = button.textContent;
    button.disabled = true;
    button.textContent = busyText;
    try {
      await action();
    } catch (err) {
      status.show([problemText(err), ...fieldErrors(err, LABELS)].join('\n'), 'error');
    } finally {
      button.disabled = false;
      button.textContent = idle;
    }
  });
}

function loginView({ client, config, notice, error, email: knownEmail, retry }) {
  const email = emailInput('login-email', knownEmail);
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: '1024' });
  const problem = h('p', { id: 'login-error', class: 'form-error', role: 'alert', hidden: !error }, error ?? '');
  // The stored session could not be resumed because the server was unreachable: it may still be good.
  const again = retry ? h('button', { type: 'button', class: 'button button--ghost' }, 'Try again') : null;
  again?.addEventListener('click', retry);
  const info = h('p', { class: 'notice', role: 'status', hidden: !notice }, notice ?? '');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Sign in');
  const form = h('form', { id: 'login-form' },
    info,
    field('Email', email),
    field('Password', password),
    problem,
    again,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await client.login({ email: email.value.trim(), password: password.value });
      // The session change (client.onSession) shows the signed-in page.
    } catch (err) {
      password.value = '';
      problem.textContent = problemText(err);
      problem.hidden = false;
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.focus();
    }
  });
  const view = card('login', `Sign in to Warren ${capitalise(config.portal)}`,
    h('p', { class: 'muted' }, `${config.partition} partition`),
    form,
    h('p', { class: 'auth__links' },
      h('a', { href: '#/forgot' }, 'Forgot your password?'),
      h('a', { href: '#/register' }, 'Create an account')));
  queueMicrotask(() => (knownEmail ? password : email).focus());
  return view;
}

function registerView({ client, go }) {
  const name = h('input', { id: 'register-name', name: 'name', autocomplete: 'name', required: true, maxlength: '200' });
  const email = emailInput('register-email');
  email.setAttribute('autocomplete', 'email');
  const password = h('input', { id: 'register-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8', maxlength: '128' });
  const status = statusLine('register-status');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Create account');
  const form = h('form', { id: 'register-form' }, field('Name', name), field('Email', email), field('Password', password, PASSWORD_HINT), status.el, submit);
  const view = card('register', 'Create an account',
    h('p', { class: 'muted' }, 'New accounts start as employees; an admin can give you another role.'),
    form,
    h('p', { class: 'auth__links' }, h('a', { href: '#/' }, 'Already have an account? Sign in')));
  onSubmit(form, submit, status, 'Creating…', async () => {
    const body = { name: name.value.trim(), email: email.value.trim(), password: password.value };
    await client.account.register(body);
    view.replaceWith(verifyView({ client, go }, body));
  });
  queueMicrotask(() => name.focus());
  return view;
}

/** The emailed code; once confirmed, signs in with the password just chosen (kept only until then). */
function verifyView({ client, go }, registration) {
  const code = h('input', { id: 'verify-code', name: 'code', ...CODE_ATTRS });
  const status = statusLine('verify-status');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Confirm email');
  const resend = h('button', { type: 'button', class: 'button button--link' }, 'Send a new code');
  const form = h('form', { id: 'verify-form' }, field('Code', code, 'The 6 digits from the email. It is valid for 10 minutes.'), status.el, submit);
  const view = card('verify', 'Check your email',
    h('p', {}, 'We sent a code to ', h('strong', {}, bdi(registration.email)), '.'),
    form,
    h('p', { class: 'auth__links' }, resend, h('a', { href: '#/' }, 'Back to sign in')));
  onSubmit(form, submit, status, 'Confirming…', async () => {
    await client.account.verifyEmail({ email: registration.email, code: code.value.trim() });
    try {
      await client.login({ email: registration.email, password: registration.password });
    } catch {
      go('login', { notice: 'Your email is confirmed. Please sign in.', email: registration.email });
    }
  });
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    try {
      await client.account.register(registration);
      status.show('A new code is on its way; the previous one no longer works.', 'ok');
    } catch (err) {
      status.show(problemText(err), 'error');
    } finally {
      resend.disabled = false;
    }
  });
  queueMicrotask(() => code.focus());
  return view;
}

function forgotView({ client, go }) {
  const email = emailInput('forgot-email');
  const status = statusLine('forgot-status');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Email me a code');
  const form = h('form', { id: 'forgot-form' }, field('Email', email), status.el, submit);
  const view = card('forgot', 'Reset your password',
    h('p', { class: 'muted' }, 'We email you a code; with it you choose a new password.'),
    form,
    h('p', { class: 'auth__links' }, h('a', { href: '#/' }, 'Back to sign in')));
  onSubmit(form, submit, status, 'Sending…', async () => {
    const address = email.value.trim();
    await client.account.forgotPassword(address);
    view.replaceWith(resetView({ client, go }, address));
  });
  queueMicrotask(() => email.focus());
  return view;
}

function resetView({ client, go }, address) {
  const code = h('input', { id: 'reset-code', name: 'code', ...CODE_ATTRS });
  const password = h('input', { id: 'reset-password', name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: '8', maxlength: '128' });
  const status = statusLine('reset-status');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Set new password');
  const form = h('form', { id: 'reset-form' }, field('Code', code, 'The 6 digits from the email.'), field('New password', password, PASSWORD_HINT), status.el, submit);
  const view = card('reset', 'Choose a new password',
    h('p', {}, 'If an account exists for ', h('strong', {}, address), ', we emailed it a code.'),
    form,
    h('p', { class: 'auth__links' }, h('a', { href: '#/' }, 'Back to sign in')));
  onSubmit(form, submit, status, 'Saving…', async () => {
    await client.account.resetPassword({ email: address, code: code.value.trim(), newPassword: password.value });
    go('login', { notice: 'Your password is changed and every session was signed out. Sign in with the new password.', email: address });
  });
  queueMicrotask(() => code.focus());
  return view;
}
