// heinzel in WordPress's own privacy tools, on the real German WordPress
// of tests/wordpress/run: the personal data exporter and eraser that
// "Werkzeuge → Personenbezogene Daten exportieren/löschen" run include
// heinzel's data, and the privacy policy guide has heinzel's paragraph.
// No browser: WordPress's registered callbacks are called as its privacy
// request screens call them, inside the WordPress (php with wp-load.php).

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const BASE = process.env.BASE_URL;
const WP = process.env.WP_DIR;
const CONF = process.env.HEINZEL_CONF;
const HEINZELCTL = process.env.HEINZELCTL;

if (!BASE || !WP || !CONF || !HEINZELCTL)
	throw new Error('run me through tests/wordpress/run');

// Fresh addresses each run: the site may be one a test ran on before.
const TAG = Date.now().toString(36);
const READER = `Datenschutz.Leserin.${TAG}@Example.org`;
const OTHER = `anderer.leser.${TAG}@example.net`;
let postId;

function ctl(...args) {
	return execFileSync(HEINZELCTL, ['-c', CONF, ...args], { encoding: 'utf8' });
}

// PHP inside the WordPress (admin: as WordPress's privacy screens run).
function php(code) {
	const u = new URL(BASE);
	return execFileSync('php', ['-d', 'error_reporting=E_ALL&~E_DEPRECATED', '-r',
		`$_SERVER['HTTP_HOST'] = '${u.host}'; $_SERVER['REQUEST_URI'] = '/';` +
		`require '${WP}/wp-load.php'; ${code}`],
	{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function phpJson(code) {
	return JSON.parse(php(`echo wp_json_encode((function () { ${code} })());`));
}

// A comment through the plugin's client (the site vouches: no question).
function comment(email, name, body) {
	const r = phpJson(`return heinzel_client()->submit(array(
		'post' => '${postId}', 'author' => '${name}', 'email' => '${email}',
		'body' => '${body}', 'ip' => '203.0.113.44',
		'user_agent' => 'PrivacyTest/1.0'), true);`);
	assert.equal(r.status, 202, JSON.stringify(r));
	return r.data.id;
}

function wpBodies() {
	return phpJson(`return array_map(function ($c) { return $c->comment_content; },
		get_comments(array('post_id' => ${postId}, 'status' => 'all')));`);
}

before(() => {
	postId = php(`echo wp_insert_post(array('post_title' => 'Datenschutz',
		'post_content' => 'Ein Beitrag für die Datenschutzprüfung.',
		'post_status' => 'publish'));`);
	assert.match(postId, /^[0-9]+$/);
});

test('the exporter and eraser of WordPress include heinzel', () => {
	const mine = [comment(READER, 'Dana Datenschutz', 'Mein freigegebener Kommentar'),
		comment(READER, 'Dana Datenschutz', 'Mein wartender Kommentar')];
	const theirs = comment(OTHER, 'Otto Anders', 'Ein Kommentar von Otto');
	ctl('approve', mine[0], theirs);
	php(`Heinzel_Sync::sync_post(${postId}, true);`);
	assert.deepEqual(wpBodies().sort(), ['Ein Kommentar von Otto', 'Mein freigegebener Kommentar']);

	// Registered beside WordPress's own, as its privacy screens see them.
	const names = phpJson(`return array(
		array_keys(apply_filters('wp_privacy_personal_data_exporters', array())),
		array_keys(apply_filters('wp_privacy_personal_data_erasers', array())));`);
	assert.ok(names[0].includes('wordpress-comments') && names[0].includes('heinzel'), names[0]);
	assert.ok(names[1].includes('wordpress-comments') && names[1].includes('heinzel'), names[1]);

	const exp = phpJson(`$e = apply_filters('wp_privacy_personal_data_exporters', array());
		return call_user_func($e['heinzel']['callback'], '${READER.toLowerCase()}', 1);`);
	assert.equal(exp.done, true);
	const ids = exp.data.map((i) => i.item_id);
	for (const id of mine)
		assert.ok(ids.includes(`heinzel-comments-${id}`), ids.join(' '));
	assert.ok(!ids.includes(`heinzel-comments-${theirs}`));
	const text = JSON.stringify(exp);
	assert.ok(text.includes('Mein wartender Kommentar') && text.includes('203.0.113.44'));
	assert.ok(!text.includes('Otto') && !text.includes(OTHER));
	// German labels, as the site speaks.
	assert.ok(text.includes('E-Mail-Adresse'), text.slice(0, 400));

	const era = phpJson(`$e = apply_filters('wp_privacy_personal_data_erasers', array());
		return call_user_func($e['heinzel']['callback'], '${READER}', 1);`);
	assert.deepEqual(era, { items_removed: true, items_retained: false, messages: [], done: true });
	// Gone from heinzel, and the published one from WordPress at once.
	const left = JSON.parse(ctl('privacy', 'export', READER));
	assert.deepEqual(left.comments, []);
	assert.deepEqual(left.known_author, []);
	assert.deepEqual(wpBodies(), ['Ein Kommentar von Otto']);
	assert.equal(JSON.parse(ctl('privacy', 'export', OTHER)).comments.length, 1);
	// Again: nothing left to remove.
	const again = phpJson(`$e = apply_filters('wp_privacy_personal_data_erasers', array());
		return call_user_func($e['heinzel']['callback'], '${READER}', 1);`);
	assert.equal(again.items_removed, false);
});

test("the privacy policy guide has heinzel's paragraph with heinzel's keep times", () => {
	const entries = phpJson(`require_once ABSPATH . 'wp-admin/includes/admin.php';
		delete_transient('heinzel_privacy_policy_de');
		set_current_screen('privacy-policy-guide');
		do_action('admin_init');
		return WP_Privacy_Policy_Content::get_suggested_policy_text();`);
	const mine = entries.filter((e) => e.plugin_name === 'heinzel');
	assert.equal(mine.length, 1, JSON.stringify(entries).slice(0, 400));
	const want = ctl('privacy', 'policy', '--lang', 'de').trim();
	assert.ok(want.includes('löschen wir nach 7 Tagen'));
	assert.ok(mine[0].policy_text.includes(want),
		`the paragraph from heinzeld:\n${want}\nnot in:\n${mine[0].policy_text}`);
});
