// The reader's path through the demo blog page in headless Chromium:
// nginx serves docs/demo/ and proxies /comments/ to heinzeld, which keeps
// comments in a private Redis.  Started by tests/browser/run, which passes
// BASE_URL, REDIS_SOCKET, REDIS_PREFIX, HEINZEL_CONF, HEINZELCTL and
// BROWSER_OUT (where the screenshots go).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const SOCKET = process.env.REDIS_SOCKET;
const TAG = '{' + (process.env.REDIS_PREFIX || 'heinzel') + '}';
const CONF = process.env.HEINZEL_CONF;
const HEINZELCTL = process.env.HEINZELCTL;
const OUT = process.env.BROWSER_OUT || path.join(import.meta.dirname, 'out');
const POST = 'demo-post';

if (!BASE || !SOCKET || !CONF || !HEINZELCTL)
	throw new Error('run me through tests/browser/run');
mkdirSync(OUT, { recursive: true });

const GERMAN = ['null', 'eins', 'zwei', 'drei', 'vier', 'fünf', 'sechs',
	'sieben', 'acht', 'neun', 'zehn', 'elf', 'zwölf', 'dreizehn',
	'vierzehn', 'fünfzehn', 'sechzehn', 'siebzehn', 'achtzehn', 'neunzehn'];

let browser;

before(async () => {
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-quic', '--no-first-run',
			'--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
});

after(async () => {
	if (browser)
		await browser.close();
});

// ---- Redis, through redis-cli ----

function redis(...args) {
	const out = execFileSync('redis-cli', ['--json', '-s', SOCKET, ...args],
		{ encoding: 'utf8' });
	return JSON.parse(out);
}

function queue(status) {
	return redis('ZRANGE', `${TAG}:queue:${status}`, '0', '-1');
}

function comment(id) {
	return redis('HGETALL', `${TAG}:comment:${id}`);
}

function published() {
	return redis('ZRANGE', `${TAG}:published:${POST}`, '0', '-1');
}

// ---- the browser ----

async function newReader(t) {
	const context = await browser.newContext({
		locale: 'de-DE',
		timezoneId: 'Europe/Berlin',
		viewport: { width: 900, height: 900 },
	});
	const page = await context.newPage();
	const problems = [];

	page.on('pageerror', (e) => problems.push('page error: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error')
			problems.push('console: ' + m.text());
	});
	t.after(async () => {
		await context.close();
		assert.deepEqual(problems, [], 'the page ran without errors');
	});
	return page;
}

async function open(page) {
	await page.goto(BASE);
	await questionText(page);
}

// The question as the label reads, once loaded: "Wie viel ist sechs plus eins? (6 + 1)".
async function questionText(page) {
	const q = page.locator('#captcha-question');

	await q.filter({ hasText: /^Wie viel ist / }).waitFor();
	return (await q.innerText()).trim();
}

// Solve the question the way a person reads it: from the words, checked
// against the digits shown beside them.
function solve(text) {
	const w = text.match(/^Wie viel ist (\S+) (plus|minus|mal) (\S+)\?/);
	assert.ok(w, `a question in words: ${text}`);
	const a = GERMAN.indexOf(w[1]), b = GERMAN.indexOf(w[3]);
	assert.ok(a >= 0 && b >= 0, `German number words: ${text}`);
	const answer = w[2] === 'plus' ? a + b : w[2] === 'minus' ? a - b : a * b;

	const d = text.match(/\((\d+) ([+\-×]) (\d+)\)/);
	assert.ok(d, `the question in digits too: ${text}`);
	assert.deepEqual([Number(d[1]), d[2], Number(d[3])],
		[a, { plus: '+', minus: '-', mal: '×' }[w[2]], b],
		'words and digits ask the same');
	return answer;
}

async function focusedId(page) {
	return page.evaluate(() => document.activeElement && document.activeElement.id);
}

// Type into the focused field, check it is the one meant, go on with Tab.
async function typeThenTab(page, id, text) {
	assert.equal(await focusedId(page), id, `focus is on #${id}`);
	await page.keyboard.type(text, { delay: 2 });
	await page.keyboard.press('Tab');
}

// Submit and return heinzeld's 303 Location, once the page is back and
// its script has shown the outcome (focus moves a tick after load).
async function submitWith(page, action) {
	await page.evaluate(() => { window.heinzelOldPage = true; });
	const redirect = page.waitForResponse((r) =>
		r.request().method() === 'POST' &&
		new URL(r.url()).pathname === '/comments/comments');
	await action();
	const res = await redirect;
	assert.equal(res.status(), 303, 'heinzeld answers the form with 303');
	const location = res.headers()['location'];
	await page.waitForFunction(() => !window.heinzelOldPage &&
		document.readyState === 'complete');
	await page.evaluate(() => new Promise((done) => setTimeout(done, 50)));
	await questionText(page);
	return new URL(location);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, name), fullPage: true });
}

async function fieldValues(page) {
	return page.evaluate(() => {
		const f = document.getElementById('comment-form').elements;
		return { author: f.author.value, email: f.email.value,
			url: f.url.value, body: f.body.value };
	});
}

// The people (and the program) who comment, each with a text of their own:
// heinzeld refuses the same text on the same post twice.  Every run starts
// with an empty Redis.
const READERS = {
	anna: ['Anna Schmitz', 'anna.schmitz@example.org', 'https://anna-schmitz.example.org/',
		'Bei uns ist es die Katze, die nachts aufräumt – nur leider nach ' +
		'ihren eigenen Regeln.\n\nSchöne Geschichte, danke!'],
	bernd: ['Bernd Müller', 'bernd@example.org', 'https://bernd-mueller.example.org/',
		'Ich wohne um die Ecke vom Brunnen und habe mich immer gefragt, ' +
		'warum er so viele kleine Figuren hat.\n\nJetzt weiß ich es!'],
	carla: ['Carla Weber', 'carla@example.org', '',
		'Meine Oma hat uns die Geschichte vor dem Schlafengehen erzählt. ' +
		'Die Erbsen fand ich immer gemein.'],
	draft: ['Jonas Becker', 'jonas@example.org', '',
		'Bei mir macht das der Saugroboter. Meistens.'],
	bot: ['Marketing Team', 'seo@example.com', 'https://seo-agency.example.com/',
		'Toller Beitrag, vielen Dank für die Informationen! Weiter so.'],
};

function reader(who) {
	const [author, email, url, body] = READERS[who];
	return { author, email, url, body };
}

// ---- the tests ----

let approvedId = null;
let approvedBody = null;

test('the form is labelled, marks required fields and hides the honeypot', async (t) => {
	const page = await newReader(t);
	await open(page);

	const form = page.locator('#comment-form');
	assert.equal(await form.getAttribute('method'), 'post');
	assert.equal(await form.getAttribute('action'), '/comments/comments');
	assert.equal(await form.getAttribute('enctype'), 'application/x-www-form-urlencoded');

	for (const [label, required] of [['Name', true], ['E-Mail', true],
		['Website', false], ['Kommentar', true]]) {
		const field = page.getByRole('textbox', { name: label, exact: true });
		assert.equal(await field.count(), 1, `one field labelled ${label}`);
		assert.equal(await field.evaluate((e) => e.required), required,
			`${label} required: ${required}`);
		const labelText = await page.locator(`label[for="${await field.getAttribute('id')}"]`).innerText();
		assert.equal(labelText.includes('*'), required, `${label} marked with * iff required`);
	}
	const answer = page.getByRole('textbox', { name: /^Wie viel ist/ });
	assert.equal(await answer.count(), 1, 'the answer field is labelled with the question');
	assert.ok(await answer.evaluate((e) => e.required));

	const email = page.getByRole('textbox', { name: 'E-Mail', exact: true });
	const hint = await email.evaluate((e) => e.getAttribute('aria-describedby')
		.split(/\s+/).map((id) => document.getElementById(id).textContent).join(' '));
	assert.match(hint, /Deine E-Mail-Adresse wird nicht veröffentlicht\./);

	// The honeypot: not seen, not heard, not reached with Tab.
	const hp = page.locator('input[name="honeypot"]');
	assert.equal(await hp.getAttribute('tabindex'), '-1');
	assert.equal(await hp.getAttribute('autocomplete'), 'off');
	assert.equal(await hp.evaluate((e) => e.closest('[aria-hidden="true"]') !== null), true);
	const box = await hp.boundingBox();
	assert.ok(box === null || box.x + box.width <= 0 || box.y + box.height <= 0,
		'the honeypot is outside the page');
	const tree = await form.ariaSnapshot();
	assert.ok(!/Homepage|honeypot|leer lassen/i.test(tree),
		`the honeypot is not in the accessibility tree:\n${tree}`);
	assert.match(tree, /textbox "Name"/);
	assert.match(tree, /button "Kommentar abschicken"/);

	assert.equal(await page.locator('#outcome').getAttribute('role'), 'status');
	assert.equal(await page.locator('input[name="post"]').inputValue(), POST);
	assert.equal(await page.locator('input[name="return_to"]').inputValue(), BASE);
	assert.match(await page.locator('#captcha_id').inputValue(), /^[0-9a-f]{32}$/);
	await shot(page, '00-form.png');
});

test('a reader comments with the keyboard alone: it waits for moderation', async (t) => {
	const page = await newReader(t);
	const me = reader('anna');
	await open(page);
	const before = queue('pending');

	// Skip link, then into the form.
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.textContent),
		'Direkt zum Kommentarformular');
	await page.keyboard.press('Enter');
	await page.keyboard.press('Tab');

	await typeThenTab(page, 'author', me.author);
	await typeThenTab(page, 'email', me.email);
	await typeThenTab(page, 'url', me.url);
	await typeThenTab(page, 'body', me.body);
	await typeThenTab(page, 'captcha_answer', String(solve(await questionText(page))));
	assert.equal(await focusedId(page), 'captcha-new', 'then the other-question button');
	await page.keyboard.press('Tab');
	assert.equal(await focusedId(page), 'submit', 'then the submit button, never the honeypot');
	await shot(page, '01-filled-in.png');

	const where = await submitWith(page, () => page.keyboard.press('Enter'));
	assert.equal(where.searchParams.get('comment'), 'pending');
	assert.equal(where.hash, '#comments');
	const id = where.searchParams.get('id');
	assert.match(id, /^[0-9a-f]{20}$/);

	const outcome = page.locator('#outcome');
	await outcome.filter({ hasText: 'Dein Kommentar wartet auf Freischaltung.' }).waitFor();
	assert.equal(await focusedId(page), 'outcome', 'focus on the message');
	assert.equal(new URL(page.url()).search, '', 'a reload does not repeat the message');
	assert.deepEqual(await fieldValues(page), { author: '', email: '', url: '', body: '' },
		'the form is empty again');
	assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing kept');
	assert.equal(await page.locator(`#comment-${id}`).count(), 0, 'not published yet');
	await shot(page, '02-pending.png');

	// In the moderation queue, as typed, with the reader's address from nginx.
	assert.ok(!before.includes(id));
	assert.ok(queue('pending').includes(id), 'in {P}:queue:pending');
	const c = comment(id);
	assert.equal(c.status, 'pending');
	assert.equal(c.post, POST);
	assert.equal(c.author, me.author);
	assert.equal(c.email, me.email);
	assert.equal(c.url, me.url);
	// Browsers send a textarea's line breaks as CRLF.
	assert.equal(c.body.replace(/\r\n/g, '\n'), me.body);
	assert.equal(c.ip, '127.0.0.1', 'the IP nginx saw');
	approvedId = id;
	approvedBody = me;
});

test('heinzelctl approve publishes the comment on the page', async (t) => {
	assert.ok(approvedId, 'the previous test left a pending comment');
	const page = await newReader(t);
	await open(page);
	assert.equal(await page.locator(`#comment-${approvedId}`).count(), 0);

	let out;
	try {
		out = execFileSync(HEINZELCTL, ['-c', CONF, 'approve', approvedId],
			{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (e) {
		assert.fail(`${HEINZELCTL} -c ${CONF} approve ${approvedId} failed ` +
			`(${e.status ?? e.message}): ${e.stderr || ''}${e.stdout || ''}`);
	}
	t.diagnostic(`heinzelctl: ${String(out).trim()}`);
	assert.ok(queue('approved').includes(approvedId));
	assert.ok(!queue('pending').includes(approvedId));

	await page.reload();
	await questionText(page);
	const li = page.locator(`#comment-${approvedId}`);
	await li.waitFor();
	const text = await li.innerText();
	assert.ok(text.includes(approvedBody.author));
	assert.ok(text.includes('Schöne Geschichte, danke!'));
	assert.ok(text.includes('schrieb am'));
	assert.equal(await li.getByRole('link', { name: approvedBody.author }).getAttribute('href'),
		approvedBody.url);
	assert.equal((await li.locator('.comment-body p').count()), 2, 'two paragraphs');
	assert.ok(!(await page.content()).includes(approvedBody.email), 'the e-mail stays private');
	await shot(page, '03-published.png');

	// The next reader starts writing: the picture in the README.
	const next = reader('draft');
	await page.getByRole('textbox', { name: 'Name', exact: true }).fill(next.author);
	await page.getByRole('textbox', { name: 'E-Mail', exact: true }).fill(next.email);
	await page.getByRole('textbox', { name: 'Kommentar', exact: true }).fill(next.body);
	await page.getByRole('textbox', { name: /^Wie viel ist/ })
		.fill(String(solve(await questionText(page))));
	await page.evaluate(() => window.scrollTo(0, 0));
	const box = await page.locator('#comments').boundingBox();
	await page.screenshot({ path: path.join(OUT, 'readme.png'), fullPage: true,
		clip: { x: box.x - 24, y: box.y + 8, width: box.width + 48, height: box.height + 8 } });
});

test('a wrong answer: the error sits at the question, the typed text stays', async (t) => {
	const page = await newReader(t);
	const me = reader('bernd');
	await open(page);
	const pending = queue('pending').length;

	await page.getByRole('textbox', { name: 'Name', exact: true }).click();
	await page.keyboard.type(me.author);
	await page.keyboard.press('Tab');
	await page.keyboard.type(me.email);
	await page.keyboard.press('Tab');
	await page.keyboard.type(me.url);
	await page.keyboard.press('Tab');
	await page.keyboard.type(me.body);
	await page.keyboard.press('Tab');
	const oldCaptcha = await page.locator('#captcha_id').inputValue();
	const wrong = solve(await questionText(page)) + 1;
	await page.keyboard.type(String(wrong));

	const where = await submitWith(page, () =>
		page.getByRole('button', { name: 'Kommentar abschicken' }).click());
	assert.equal(where.searchParams.get('comment'), 'captcha');
	assert.equal(where.searchParams.get('field'), 'captcha_answer');

	const answer = page.locator('#captcha_answer');
	const error = page.locator('#captcha-error');
	await error.filter({ hasText: 'Die Rechenaufgabe war nicht richtig gelöst.' }).waitFor();
	assert.ok(await error.isVisible());
	assert.equal(await answer.getAttribute('aria-invalid'), 'true');
	assert.ok((await answer.getAttribute('aria-describedby')).split(/\s+/).includes('captcha-error'));
	assert.equal(await focusedId(page), 'captcha_answer', 'focus on the answer');
	// The error is right at the field: between the field and the submit button.
	const [fieldBox, errorBox, submitBox] = await Promise.all([answer.boundingBox(),
		error.boundingBox(), page.locator('#submit').boundingBox()]);
	assert.ok(errorBox.y >= fieldBox.y + fieldBox.height - 1 && errorBox.y < submitBox.y,
		'the message is under the answer field');
	assert.match(await page.locator('#outcome').innerText(), /noch nicht gespeichert/);

	assert.deepEqual(await fieldValues(page), me, 'what the reader typed is still there');
	assert.equal(await answer.inputValue(), '', 'the old answer is gone');
	const newCaptcha = await page.locator('#captcha_id').inputValue();
	assert.match(newCaptcha, /^[0-9a-f]{32}$/);
	assert.notEqual(newCaptcha, oldCaptcha, 'a new question');
	assert.equal(queue('pending').length, pending, 'nothing stored');
	await shot(page, '04-wrong-answer.png');

	// Answer the new question, in words this time, and send the kept text.
	const right = solve(await questionText(page));
	await page.keyboard.type(GERMAN[right] || String(right));
	assert.equal(await answer.getAttribute('aria-invalid'), null, 'typing clears the error');
	const again = await submitWith(page, () => page.keyboard.press('Enter'));
	assert.equal(again.searchParams.get('comment'), 'pending');
	const id = again.searchParams.get('id');
	await page.locator('#outcome').filter({ hasText: 'Dein Kommentar wartet auf Freischaltung.' }).waitFor();
	const c = comment(id);
	assert.equal(c.status, 'pending');
	assert.equal(c.body.replace(/\r\n/g, '\n'), me.body);
	assert.equal(c.author, me.author);
});

test('a field heinzeld refuses is marked and focused, the rest kept', async (t) => {
	const page = await newReader(t);
	const me = reader('carla');
	me.email = 'carla@localhost';	// fine for the browser, not for heinzeld
	await open(page);

	await page.getByRole('textbox', { name: 'Name', exact: true }).fill(me.author);
	await page.getByRole('textbox', { name: 'E-Mail', exact: true }).fill(me.email);
	await page.getByRole('textbox', { name: 'Website', exact: true }).fill(me.url);
	await page.getByRole('textbox', { name: 'Kommentar', exact: true }).fill(me.body);
	await page.getByRole('textbox', { name: /^Wie viel ist/ }).fill(String(solve(await questionText(page))));
	const where = await submitWith(page, () =>
		page.getByRole('button', { name: 'Kommentar abschicken' }).click());
	assert.equal(where.searchParams.get('comment'), 'error');
	assert.equal(where.searchParams.get('field'), 'email');

	const email = page.locator('#email');
	await page.locator('#email-error').filter({ hasText: 'gültige E-Mail-Adresse' }).waitFor();
	assert.equal(await email.getAttribute('aria-invalid'), 'true');
	assert.ok((await email.getAttribute('aria-describedby')).split(/\s+/).includes('email-error'));
	assert.equal(await focusedId(page), 'email');
	assert.deepEqual(await fieldValues(page), me);
	assert.equal(await page.locator('#author').getAttribute('aria-invalid'), null);
	await shot(page, '05-field-error.png');

	await page.keyboard.press('ControlOrMeta+A');
	await page.keyboard.type('carla@example.org');
	assert.equal(await email.getAttribute('aria-invalid'), null, 'typing clears the error');
	assert.ok(await page.locator('#email-error').isHidden());
});

test('a bot that fills the honeypot is caught: spam, never published', async (t) => {
	const page = await newReader(t);
	const bot = reader('bot');
	await open(page);
	const pendingBefore = queue('pending');

	// A program fills every field it finds, the hidden one too, and even
	// answers the question.
	for (const name of ['author', 'email', 'url', 'body'])
		await page.locator(`[name="${name}"]`).fill(bot[name]);
	await page.locator('input[name="honeypot"]').fill('https://pills.example.com/', { force: true });
	await page.locator('[name="captcha_answer"]').fill(String(solve(await questionText(page))));
	const where = await submitWith(page, () =>
		page.locator('#comment-form').evaluate((f) => f.requestSubmit()));
	const outcome = where.searchParams.get('comment');
	const id = where.searchParams.get('id');

	const stored = id ? comment(id) : null;
	assert.deepEqual(queue('pending').filter((x) => !pendingBefore.includes(x))
		.map((x) => comment(x).author).filter((a) => a === bot.author), [],
		'the bot\'s comment is not in the pending queue');
	assert.equal(outcome, 'spam', `heinzeld calls it spam (got comment=${outcome}, ` +
		`status ${stored ? stored.status : '-'}, hits "${stored ? stored.hits : ''}")`);
	assert.ok(queue('spam').includes(id), 'kept in the spam queue');
	assert.match(stored.hits || '', /HONEYPOT/);
	await page.locator('#outcome').filter({ hasText: 'Spam' }).waitFor();

	await page.reload();
	await questionText(page);
	await page.locator('#comments-state').filter({ hasText: /Kommentar/ }).waitFor();
	const html = await page.content();
	assert.ok(!html.includes(bot.body) && !html.includes(bot.author), 'not on the page');
	assert.ok(!published().includes(id));
	await shot(page, '06-honeypot.png');
});

// ---- the proxy and heinzeld without a browser ----

async function postForm(fields) {
	return fetch(new URL('comments/comments', BASE), {
		method: 'POST',
		body: new URLSearchParams(fields),
		redirect: 'manual',
	});
}

test('no open redirect: a return_to outside the allowed origins is a 400', async () => {
	const base = new URL(BASE);
	for (const rt of ['https://evil.example/', `http://${base.host}.evil.example/`,
		`http://${base.host}@evil.example/`, '//evil.example/']) {
		const res = await postForm({ post: POST, author: 'X', email: 'x@example.org',
			body: 'x', return_to: rt });
		assert.equal(res.status, 400, `return_to=${rt}`);
		assert.equal(res.headers.get('location'), null);
		const err = await res.json();
		assert.equal(err.error, 'bad_request');
		assert.equal(err.field, 'return_to');
	}
});

test('a reader cannot put another IP address into the form', async () => {
	const res = await postForm({ post: POST, author: 'X', email: 'x@example.org',
		body: 'forged ' + Date.now(), captcha_id: '0'.repeat(32), captcha_answer: '1',
		ip: '203.0.113.9', return_to: BASE });
	assert.notEqual(res.status, 202);
	if (res.status === 303)
		assert.match(res.headers.get('location'), /[?&]comment=error&field=ip\b/);
	else
		assert.equal(res.status, 422);

	// JSON would carry its own "ip" past nginx: the public proxy takes forms only.
	const json = await fetch(new URL('comments/comments', BASE), {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ post: POST, author: 'X', email: 'x@example.org',
			body: 'forged json', ip: '203.0.113.9' }),
	});
	assert.equal(json.status, 415);
	assert.equal((await json.json()).error, 'unsupported_media_type');

	for (const status of ['pending', 'approved', 'spam'])
		for (const id of queue(status))
			assert.notEqual(comment(id).ip, '203.0.113.9');
});
