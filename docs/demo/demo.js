/*
 * The demo blog page's comment form.  The form is a plain HTML form posted
 * to /comments/comments (nginx hands it to heinzeld), which answers with a
 * 303 back to this page: ?comment=OUTCOME[&field=FIELD][&id=ID]#comments.
 * This script only fetches the math question and the published comments,
 * shows the outcome of a submission and keeps what the reader typed while
 * the page goes to heinzeld and back.
 */
(function () {
	'use strict';

	var API = '/comments/';
	var KEPT = ['author', 'email', 'url', 'body'];	/* never the answer */

	/* The form field that shows a fault in API field F. */
	var FIELD_INPUT = {
		author: 'author',
		email: 'email',
		url: 'url',
		body: 'body',
		captcha_answer: 'captcha_answer',
		captcha_id: 'captcha_answer'
	};

	var FIELD_MESSAGES = {
		author: 'Bitte gib deinen Namen an (höchstens 100 Zeichen).',
		email: 'Bitte gib eine gültige E-Mail-Adresse an, zum Beispiel anna@example.org.',
		url: 'Bitte gib die Adresse deiner Website vollständig an, mit https:// oder http:// am Anfang.',
		body: 'Bitte schreibe einen Kommentar (höchstens 10.000 Zeichen, ohne Steuerzeichen).',
		captcha_answer: 'Bitte beantworte die Rechenaufgabe.',
		captcha_id: 'Die Rechenaufgabe ist abgelaufen. Bitte löse die neue Aufgabe.'
	};

	var CAPTCHA_MESSAGES = {
		captcha_answer: 'Die Rechenaufgabe war nicht richtig gelöst. Hier ist eine neue.',
		captcha_id: 'Die Rechenaufgabe war abgelaufen oder wurde schneller beantwortet, ' +
		    'als ein Mensch tippen kann. Bitte löse die neue Aufgabe.'
	};

	var form = document.getElementById('comment-form');
	var outcome = document.getElementById('outcome');
	var post = form.elements.post.value;
	var storeKey = 'heinzel-demo:' + post;

	function $(id) {
		return document.getElementById(id);
	}

	/* ---- what the reader typed ---- */

	function saveTyped() {
		var kept = {};

		KEPT.forEach(function (name) {
			kept[name] = form.elements[name].value;
		});
		try {
			sessionStorage.setItem(storeKey, JSON.stringify(kept));
		} catch (e) {
			/* storage off or full: the reader types again */
		}
	}

	function restoreTyped() {
		var kept;

		try {
			kept = JSON.parse(sessionStorage.getItem(storeKey) || 'null');
		} catch (e) {
			kept = null;
		}
		if (kept === null || typeof kept !== 'object')
			return;
		KEPT.forEach(function (name) {
			var el = form.elements[name];

			/* What the browser restored itself wins. */
			if (typeof kept[name] === 'string' && el.value === '')
				el.value = kept[name];
		});
	}

	function forgetTyped() {
		try {
			sessionStorage.removeItem(storeKey);
		} catch (e) {
			/* nothing kept */
		}
	}

	/* ---- messages ---- */

	function say(text, kind) {
		outcome.textContent = text;
		outcome.className = 'outcome ' + kind;
	}

	/* Show msg under the input with id inputId and point the input at it. */
	function fieldError(inputId, msg) {
		var input = $(inputId);
		var err = $(inputId === 'captcha_answer' ? 'captcha-error' :
		    inputId + '-error');
		var ids = (input.getAttribute('aria-describedby') || '').split(/\s+/);

		err.textContent = msg;
		err.hidden = false;
		if (ids.indexOf(err.id) < 0)
			ids.push(err.id);
		input.setAttribute('aria-describedby', ids.join(' ').trim());
		input.setAttribute('aria-invalid', 'true');
		return input;
	}

	function clearFieldError(input) {
		var errId = input.id === 'captcha_answer' ? 'captcha-error' :
		    input.id + '-error';
		var err = $(errId);

		if (err === null || err.hidden)
			return;
		err.hidden = true;
		err.textContent = '';
		input.removeAttribute('aria-invalid');
	}

	/* ---- the outcome of a submission, from the address ---- */

	function showOutcome(result, field) {
		var input = null;

		switch (result) {
		case 'pending':
			say('Danke! Dein Kommentar wartet auf Freischaltung.', 'ok');
			break;
		case 'approved':
			say('Danke! Dein Kommentar ist veröffentlicht.', 'ok');
			break;
		case 'spam':
			say('Dein Kommentar sieht nach Spam aus und wird nicht ' +
			    'veröffentlicht. Wir sehen ihn uns trotzdem an.', 'problem');
			break;
		case 'captcha':
			if (field !== 'captcha_id')
				field = 'captcha_answer';
			say('Dein Kommentar ist noch nicht gespeichert: ' +
			    'die Rechenaufgabe war nicht gelöst.', 'problem');
			input = fieldError('captcha_answer', CAPTCHA_MESSAGES[field]);
			break;
		case 'duplicate':
			say('Diesen Kommentar gibt es zu diesem Beitrag schon.', 'problem');
			input = fieldError('body', 'Genau diesen Text gibt es hier ' +
			    'schon. Vielleicht hast du ihn bereits abgeschickt?');
			break;
		case 'rate_limited':
			say('Gerade kommen sehr viele Kommentare auf einmal. Bitte ' +
			    'warte eine Minute und schicke deinen dann noch einmal ab.',
			    'problem');
			break;
		case 'unavailable':
			say('Die Kommentare sind gerade nicht erreichbar; dein ' +
			    'Kommentar wurde nicht gespeichert. Bitte versuche es in ' +
			    'ein paar Minuten noch einmal.', 'problem');
			break;
		case 'error':
			if (field && FIELD_INPUT[field] && FIELD_MESSAGES[field]) {
				say('Dein Kommentar ist noch nicht gespeichert. Bitte ' +
				    'prüfe das markierte Feld.', 'problem');
				input = fieldError(FIELD_INPUT[field], FIELD_MESSAGES[field]);
			} else {
				say('Dein Kommentar konnte nicht gespeichert werden. ' +
				    'Bitte versuche es noch einmal.', 'problem');
			}
			break;
		default:
			return;
		}

		if (result === 'pending' || result === 'approved' || result === 'spam')
			forgetTyped();
		else
			restoreTyped();

		focusLater(input !== null ? input : outcome);
	}

	/*
	 * The browser moves focus for the #comments fragment once the page has
	 * loaded (to the viewport, as the section takes no focus): focus after.
	 */
	function focusLater(el) {
		function go() {
			setTimeout(function () {
				el.focus();
			}, 0);
		}

		if (document.readyState === 'complete')
			go();
		else
			window.addEventListener('load', go, { once: true });
	}

	/* Read and drop our parameters so a reload does not repeat them. */
	function takeOutcome() {
		var url = new URL(location.href);
		var result = url.searchParams.get('comment');
		var field = url.searchParams.get('field');

		['comment', 'field', 'id'].forEach(function (p) {
			url.searchParams.delete(p);
		});
		if (result !== null)
			history.replaceState(null, '', url.pathname + url.search + url.hash);
		/* The page to come back to, without our parameters and fragment. */
		$('return_to').value = url.origin + url.pathname + url.search;
		return { result: result, field: field };
	}

	/* ---- the math question ---- */

	function loadCaptcha() {
		var q = $('captcha-question');

		q.textContent = 'Rechenaufgabe (wird geladen …)';
		$('captcha_id').value = '';
		return fetch(API + 'captcha?lang=de', { cache: 'no-store' })
		    .then(function (res) {
			if (!res.ok)
				throw new Error('HTTP ' + res.status);
			return res.json();
		}).then(function (c) {
			var digits = document.createElement('span');

			$('captcha_id').value = c.id;
			q.textContent = 'Wie viel ist ' + c.question_text + '?';
			/* The same in digits, for the eye; the words are read out. */
			digits.className = 'digits';
			digits.setAttribute('aria-hidden', 'true');
			digits.textContent = ' (' + c.question.replace(/\s*=\s*$/, '') + ')';
			q.appendChild(digits);
		}).catch(function () {
			q.textContent = 'Die Rechenaufgabe konnte nicht geladen werden. ' +
			    'Bitte lade eine andere.';
		});
	}

	/* ---- published comments ---- */

	function formatDate(iso) {
		var d = new Date(iso);

		if (isNaN(d.getTime()))
			return '';
		return d.toLocaleString('de-DE', { dateStyle: 'long', timeStyle: 'short' });
	}

	function renderComment(c) {
		var li = document.createElement('li');
		var meta = document.createElement('p');
		var who = document.createElement('strong');
		var time = document.createElement('time');
		var text = document.createElement('div');
		var link;

		li.className = 'comment';
		li.id = 'comment-' + c.id;
		meta.className = 'comment-meta';
		who.className = 'comment-author';
		if (typeof c.url === 'string' && /^https?:\/\//i.test(c.url)) {
			link = document.createElement('a');
			link.href = c.url;
			link.rel = 'nofollow ugc noopener';
			link.textContent = c.author;
			who.appendChild(link);
		} else {
			who.textContent = c.author;
		}
		meta.appendChild(who);
		if (c.created_at) {
			time.dateTime = c.created_at;
			time.textContent = formatDate(c.created_at);
			meta.appendChild(document.createTextNode(' schrieb am '));
			meta.appendChild(time);
			meta.appendChild(document.createTextNode(':'));
		} else {
			meta.appendChild(document.createTextNode(' schrieb:'));
		}
		text.className = 'comment-body';
		String(c.body || '').split(/\n\s*\n/).forEach(function (para) {
			var p = document.createElement('p');

			p.textContent = para;
			text.appendChild(p);
		});
		li.appendChild(meta);
		li.appendChild(text);
		return li;
	}

	function loadComments() {
		var state = $('comments-state');
		var list = $('comment-list');

		return fetch(API + 'comments?post=' + encodeURIComponent(post),
		    { cache: 'no-store' }).then(function (res) {
			if (!res.ok)
				throw new Error('HTTP ' + res.status);
			return res.json();
		}).then(function (data) {
			var comments = Array.isArray(data.comments) ? data.comments : [];

			list.textContent = '';
			comments.forEach(function (c) {
				list.appendChild(renderComment(c));
			});
			if (comments.length === 0)
				state.textContent = 'Noch keine Kommentare. Schreib den ersten!';
			else if (comments.length === 1)
				state.textContent = 'Ein Kommentar';
			else
				state.textContent = comments.length + ' Kommentare';
		}).catch(function () {
			state.textContent = 'Die Kommentare konnten gerade nicht geladen werden.';
		});
	}

	/* ---- the form ---- */

	function newRequestId() {
		var a = new Uint8Array(16);

		crypto.getRandomValues(a);
		return Array.prototype.map.call(a, function (b) {
			return (b + 0x100).toString(16).slice(1);
		}).join('');
	}

	form.addEventListener('submit', function () {
		saveTyped();
		/* One comment however often the button is pressed. */
		if ($('request_id').value === '')
			$('request_id').value = newRequestId();
		setTimeout(function () {
			$('submit').disabled = true;
		}, 0);
	});

	/* Back from heinzeld through the history: the button works again. */
	window.addEventListener('pageshow', function (ev) {
		if (ev.persisted) {
			$('submit').disabled = false;
			$('request_id').value = '';
			loadCaptcha();
		}
	});

	form.addEventListener('input', function (ev) {
		if (ev.target.getAttribute('aria-invalid') === 'true')
			clearFieldError(ev.target);
	});

	$('captcha-new').addEventListener('click', function () {
		$('captcha_answer').value = '';
		loadCaptcha().then(function () {
			$('captcha_answer').focus();
		});
	});

	var o = takeOutcome();

	loadComments();
	loadCaptcha();
	showOutcome(o.result, o.field);
})();
