<?php
/*
 * A blog frontend's side of heinzel, in PHP with the curl extension, over
 * heinzeld's Unix socket (CURLOPT_UNIX_SOCKET_PATH).
 *
 * A frontend makes two requests per comment:
 *
 *  1. When it renders the comment form: heinzel_captcha().  Show
 *     "question" (or "question_text", for screen readers) and put "id" in
 *     a hidden field.
 *  2. When the form comes back: heinzel_submit() with the reader's fields,
 *     the captcha id and the reader's answer, plus what heinzeld cannot see
 *     from behind PHP: the reader's IP address, User-Agent and Referer.  A
 *     request_id makes a retry safe: heinzeld stores one comment for it.
 *
 * Approved comments of a post: heinzel_comments($post).
 *
 * In a web page (sketch):
 *
 *   require 'client.php';
 *   if ($_SERVER['REQUEST_METHOD'] === 'POST') {
 *       $fields = array_intersect_key($_POST, array_flip(['post', 'author',
 *           'email', 'url', 'body', 'captcha_id', 'captcha_answer',
 *           'parent', 'honeypot', 'request_id']));
 *       $fields['ip'] = $_SERVER['REMOTE_ADDR'];
 *       $fields['user_agent'] = $_SERVER['HTTP_USER_AGENT'] ?? '';
 *       $fields['referrer'] = $_SERVER['HTTP_REFERER'] ?? '';
 *       $r = heinzel_submit(HEINZEL_SOCKET, $fields);
 *       // 202: "thank you, your comment awaits moderation"; otherwise
 *       // show the form again with heinzel_explain($r) and a new captcha.
 *   }
 *   $captcha = heinzel_captcha(HEINZEL_SOCKET, 'de');
 *   // <p><label>{$captcha['question']} <input name="captcha_answer"></label>
 *   // <input type="hidden" name="captcha_id" value="{$captcha['id']}">
 *   // <input type="hidden" name="request_id" value="(bin2hex(random_bytes(16)))">
 *
 * As a command (php client.php [options] BODY, or --list POST), the
 * "reader" is the person at the terminal: the script asks the question
 * and reads the answer from standard input.  For tests, --answer=solve (or
 * HEINZEL_EXAMPLE_ANSWER=solve) makes it compute the answer itself.  A
 * real frontend never does that: the reader answers, or the captcha keeps
 * no bot out.
 *
 * Prints one result line ("stored: id=... status=pending", "refused:
 * captcha ...", "unavailable: ...") and exits 0 when the comment was
 * stored, 1 when it was refused, 2 on a usage error, 3 when heinzeld or
 * its Redis could not take it (after the retries).
 */

const HEINZEL_SOCKET = '/run/heinzel/heinzel.sock';

class HeinzelUnavailable extends Exception
{
	public $retry_after;

	public function __construct($message, $retry_after = null)
	{
		parent::__construct($message);
		$this->retry_after = $retry_after;
	}
}

/* One request; returns ['status' => int, 'data' => array]. */
function heinzel_call($socket, $method, $path, $payload = null)
{
	$headers = [];
	$ch = curl_init('http://localhost' . $path);
	$opts = [
		CURLOPT_UNIX_SOCKET_PATH => $socket,
		CURLOPT_CUSTOMREQUEST => $method,
		CURLOPT_RETURNTRANSFER => true,
		CURLOPT_TIMEOUT => 10,
		CURLOPT_HTTPHEADER => ['Accept: application/json'],
		CURLOPT_HEADERFUNCTION => function ($ch, $line) use (&$headers) {
			$parts = explode(':', $line, 2);
			if (count($parts) == 2)
				$headers[strtolower(trim($parts[0]))] = trim($parts[1]);
			return strlen($line);
		},
	];
	if ($payload !== null) {
		$opts[CURLOPT_POSTFIELDS] = json_encode($payload,
		    JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
		$opts[CURLOPT_HTTPHEADER][] = 'Content-Type: application/json';
	}
	curl_setopt_array($ch, $opts);
	$raw = curl_exec($ch);
	if ($raw === false) {
		/* No socket (heinzeld stopped) or a dropped connection. */
		$err = curl_error($ch);
		curl_close($ch);
		throw new HeinzelUnavailable("heinzeld at $socket: $err");
	}
	$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
	curl_close($ch);
	$data = json_decode($raw, true);
	if (!is_array($data))
		$data = ['error' => 'http', 'message' => $raw];
	if ($status == 429 || $status == 503) {
		$ra = $headers['retry-after'] ?? null;
		throw new HeinzelUnavailable($data['message'] ?? 'busy',
		    is_numeric($ra) ? max(0, (int)$ra) : null);
	}
	return ['status' => $status, 'data' => $data];
}

/* Run $fn(), waiting Retry-After and trying again while unavailable. */
function heinzel_with_retries($fn, $retries, $max_wait = 30)
{
	for ($attempt = 0; ; $attempt++) {
		try {
			return $fn();
		} catch (HeinzelUnavailable $e) {
			if ($attempt >= $retries)
				throw $e;
			sleep(min($e->retry_after ?? 2, $max_wait));
		}
	}
}

/* ['id', 'question', 'question_text', 'expires_in']. */
function heinzel_captcha($socket, $lang = null)
{
	$path = '/v1/captcha' . ($lang ? '?' . http_build_query(['lang' => $lang]) : '');
	$r = heinzel_call($socket, 'GET', $path);
	if ($r['status'] != 200)
		throw new HeinzelUnavailable("captcha: {$r['status']} " .
		    ($r['data']['message'] ?? ''));
	return $r['data'];
}

/* POST /v1/comments; send the same fields, request_id included, to retry. */
function heinzel_submit($socket, $fields)
{
	return heinzel_call($socket, 'POST', '/v1/comments', $fields);
}

function heinzel_comments($socket, $post)
{
	$r = heinzel_call($socket, 'GET', '/v1/comments?' .
	    http_build_query(['post' => $post]));
	if ($r['status'] != 200)
		throw new HeinzelUnavailable("list: {$r['status']}");
	return $r['data']['comments'];
}

/* The result line for a refusal; what a frontend tells the reader. */
function heinzel_explain($r)
{
	$status = $r['status'];
	$err = $r['data']['error'] ?? 'http';
	$msg = $r['data']['message'] ?? '';
	if ($status == 403 && $err == 'captcha')
		/* Show the form again, with the reader's text, and a new question. */
		return "refused: captcha: $msg";
	if ($status == 403 && $err == 'spam')
		/* Kept in the spam folder for review. */
		return 'refused: spam id=' . ($r['data']['id'] ?? '') . ": $msg";
	if ($status == 422)
		/* Show the form again and mark the field. */
		return 'refused: invalid field=' . ($r['data']['field'] ?? '') . ": $msg";
	if ($status == 409)
		return "refused: duplicate: $msg";
	return "refused: $err status=$status: $msg";
}

/* TEST MODE ONLY: compute "6 + 1 =".  A real frontend lets the reader answer. */
function heinzel_solve_for_tests($question)
{
	if (!preg_match('/^(\d+) (\+|-|\x{00d7}) (\d+) =$/u', $question, $m))
		throw new Exception("unexpected question $question");
	[$a, $op, $b] = [(int)$m[1], $m[2], (int)$m[3]];
	return (string)($op === '+' ? $a + $b : ($op === '-' ? $a - $b : $a * $b));
}

function heinzel_main($argv)
{
	$opts = getopt('s:', ['socket:', 'answer:', 'lang:', 'post:', 'author:',
	    'email:', 'url:', 'parent:', 'ip:', 'user-agent:', 'referrer:',
	    'retries:', 'list:'], $rest);
	$args = array_slice($argv, $rest);
	$socket = $opts['s'] ?? $opts['socket'] ?? getenv('HEINZEL_SOCKET') ?: HEINZEL_SOCKET;
	$answer = $opts['answer'] ?? getenv('HEINZEL_EXAMPLE_ANSWER');
	$retries = (int)($opts['retries'] ?? 2);

	try {
		if (isset($opts['list'])) {
			$comments = heinzel_with_retries(function () use ($socket, $opts) {
				return heinzel_comments($socket, $opts['list']);
			}, $retries);
			foreach ($comments as $c)
				echo "comment: id={$c['id']} author={$c['author']}: {$c['body']}\n";
			echo 'listed: ' . count($comments) . "\n";
			return 0;
		}
		if (count($args) != 1) {
			fwrite(STDERR, "usage: php client.php [-s SOCKET] [--answer=A] " .
			    "[--post=P] [--author=A] [--email=E] ... BODY\n" .
			    "       php client.php [-s SOCKET] --list=POST\n");
			return 2;
		}

		/* Step 1: the form is rendered with a question. */
		$lang = $opts['lang'] ?? null;
		$captcha = heinzel_with_retries(function () use ($socket, $lang) {
			return heinzel_captcha($socket, $lang);
		}, $retries);
		echo "question: {$captcha['question']} ({$captcha['question_text']})\n";

		/* Step 2: the reader sends the form back. */
		if ($answer === 'solve') {
			$answer = heinzel_solve_for_tests($captcha['question']);
		} elseif ($answer === false || $answer === null) {
			fwrite(STDERR, "{$captcha['question']}  ({$captcha['question_text']})  ");
			$answer = fgets(STDIN);
			if ($answer === false) {
				fwrite(STDERR, "no answer given\n");
				return 2;
			}
			$answer = trim($answer);
		}
		$fields = [
			'post' => $opts['post'] ?? 'hello-world',
			'author' => $opts['author'] ?? 'Anna Beispiel',
			'email' => $opts['email'] ?? 'anna@example.org',
			'body' => $args[0],
			'captcha_id' => $captcha['id'],
			'captcha_answer' => $answer,
			'request_id' => bin2hex(random_bytes(16)),
		];
		foreach (['url' => 'url', 'parent' => 'parent', 'ip' => 'ip',
		    'user-agent' => 'user_agent', 'referrer' => 'referrer',
		    'lang' => 'lang'] as $opt => $field)
			if (($opts[$opt] ?? '') !== '')
				$fields[$field] = $opts[$opt];
		$r = heinzel_with_retries(function () use ($socket, $fields) {
			return heinzel_submit($socket, $fields);
		}, $retries);
	} catch (HeinzelUnavailable $e) {
		echo 'unavailable: ' . $e->getMessage() . "; try again later\n";
		return 3;
	}

	if ($r['status'] == 202) {
		/* "pending": thank the reader, the comment waits for moderation. */
		echo "stored: id={$r['data']['id']} status={$r['data']['status']}\n";
		return 0;
	}
	echo heinzel_explain($r) . "\n";
	return 1;
}

if (PHP_SAPI === 'cli' && isset($argv[0]) &&
    realpath($argv[0]) === realpath(__FILE__))
	exit(heinzel_main($argv));
