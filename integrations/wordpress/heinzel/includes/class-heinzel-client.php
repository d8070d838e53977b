<?php
/**
 * heinzeld's HTTP API over its Unix socket.  WordPress's HTTP API cannot
 * reach a Unix socket, so this is PHP's curl with CURLOPT_UNIX_SOCKET_PATH.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * One client per socket path; each call is one short request.
 */
class Heinzel_Client {

	/**
	 * Connect within this many seconds, or heinzel is down.
	 */
	const CONNECT_TIMEOUT = 2;

	/**
	 * The whole request within this many seconds.
	 */
	const TIMEOUT = 5;

	/**
	 * Path of heinzeld's socket.
	 *
	 * @var string
	 */
	private $socket;

	/**
	 * The frontend key, or ''.
	 *
	 * @var string
	 */
	private $key;

	/**
	 * Why heinzel could not be reached earlier in this PHP request, or ''.
	 * Once it timed out, the rest of the page does not wait for it again.
	 *
	 * @var string
	 */
	private $down = '';

	/**
	 * Constructor.
	 *
	 * @param string $socket Path of heinzeld's Unix socket.
	 * @param string $key    The frontend key ([server] frontend_key_file), or ''.
	 */
	public function __construct( $socket, $key = '' ) {
		$this->socket = $socket;
		$this->key    = (string) $key;
	}

	/**
	 * Whether heinzel trusts this site: logged-in people need no question
	 * and the history goes to POST /v1/learn.
	 *
	 * @return bool
	 */
	public function trusted() {
		return '' !== $this->key;
	}

	/**
	 * The socket this client talks to.
	 *
	 * @return string
	 */
	public function socket() {
		return $this->socket;
	}

	/**
	 * One request.  Never throws: a transport failure is status 0.
	 *
	 * @param string            $method  GET or POST.
	 * @param string            $path    Path and query, e.g. /v1/health.
	 * @param array|string|null $payload JSON body for POST (a string: JSON lines).
	 * @param bool              $auth    Send the frontend key.
	 * @return array { status: int, data: array, retry_after: int, error: string }
	 */
	public function request( $method, $path, $payload = null, $auth = false ) {
		$result = array(
			'status'      => 0,
			'data'        => array(),
			'retry_after' => 0,
			'error'       => '',
		);
		if ( ! function_exists( 'curl_init' ) ) {
			$result['error'] = 'the PHP curl extension is missing';
			return $result;
		}
		if ( '' !== $this->down ) {
			$result['error'] = $this->down;
			return $result;
		}
		$headers = array();
		// phpcs:disable WordPress.WP.AlternativeFunctions -- WordPress's HTTP API cannot use a Unix socket.
		$ch   = curl_init( 'http://localhost' . $path );
		$opts = array(
			CURLOPT_UNIX_SOCKET_PATH => $this->socket,
			CURLOPT_CUSTOMREQUEST    => $method,
			CURLOPT_RETURNTRANSFER   => true,
			CURLOPT_CONNECTTIMEOUT   => self::CONNECT_TIMEOUT,
			CURLOPT_TIMEOUT          => self::TIMEOUT,
			CURLOPT_HTTPHEADER       => array( 'Accept: application/json', 'Expect:' ),
			CURLOPT_HEADERFUNCTION   => static function ( $ch, $line ) use ( &$headers ) {
				$parts = explode( ':', $line, 2 );
				if ( 2 === count( $parts ) ) {
					$headers[ strtolower( trim( $parts[0] ) ) ] = trim( $parts[1] );
				}
				return strlen( $line );
			},
		);
		if ( is_string( $payload ) ) {
			$opts[ CURLOPT_POSTFIELDS ]   = $payload;
			$opts[ CURLOPT_HTTPHEADER ][] = 'Content-Type: application/x-ndjson';
		} elseif ( null !== $payload ) {
			$opts[ CURLOPT_POSTFIELDS ]   = wp_json_encode( $payload );
			$opts[ CURLOPT_HTTPHEADER ][] = 'Content-Type: application/json';
		}
		if ( $auth && $this->trusted() ) {
			$opts[ CURLOPT_HTTPHEADER ][] = 'Authorization: Bearer ' . $this->key;
		}
		curl_setopt_array( $ch, $opts );
		$body = curl_exec( $ch );
		if ( false === $body ) {
			$result['error'] = curl_error( $ch );
			$this->down      = $result['error'];
			curl_close( $ch );
			return $result;
		}
		$result['status'] = (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE );
		curl_close( $ch );
		// phpcs:enable
		$data = json_decode( (string) $body, true );
		if ( is_array( $data ) ) {
			$result['data'] = $data;
		}
		if ( isset( $headers['retry-after'] ) ) {
			$result['retry_after'] = max( 0, (int) $headers['retry-after'] );
		}
		return $result;
	}

	/**
	 * A fresh math question.
	 *
	 * @param string $lang Language: "de" or "en".
	 * @return array|null { id, question, question_text } or null when heinzel is down.
	 */
	public function captcha( $lang ) {
		$r = $this->request( 'GET', '/v1/captcha?lang=' . rawurlencode( $lang ) );
		if ( 200 !== $r['status'] || empty( $r['data']['id'] ) || ! isset( $r['data']['question'] ) ) {
			return null;
		}
		return array(
			'id'            => (string) $r['data']['id'],
			'question'      => (string) $r['data']['question'],
			'question_text' => isset( $r['data']['question_text'] ) ? (string) $r['data']['question_text'] : '',
		);
	}

	/**
	 * Hand a comment to heinzel.  The key goes along only when the site
	 * vouches for the person (a logged-in user, no question): a reader's
	 * submission is checked by heinzel as any other, question and all.
	 *
	 * @param array $fields The API's fields.
	 * @param bool  $vouch  Vouch for the person with the frontend key.
	 * @return array As request().
	 */
	public function submit( array $fields, $vouch = false ) {
		return $this->request( 'POST', '/v1/comments', $fields, $vouch );
	}

	/**
	 * Train the classifier: POST /v1/learn with the frontend key.
	 *
	 * @param string $kind  Either "ham" or "spam".
	 * @param string $lines JSON lines, one comment each.
	 * @return array As request().
	 */
	public function learn( $kind, $lines ) {
		return $this->request( 'POST', '/v1/learn?as=' . rawurlencode( $kind ), $lines, true );
	}

	/**
	 * Pages of the published list fetched at most.
	 */
	const MAX_PAGES = 100;

	/**
	 * All approved comments of a post, oldest first, page after page.
	 *
	 * @param string $post The post as heinzel knows it (the WordPress post ID).
	 * @return array|null The list, or null when heinzel could not give all of it.
	 */
	public function published( $post ) {
		$all   = array();
		$after = '';
		for ( $page = 0; $page < self::MAX_PAGES; $page++ ) {
			$r = $this->request( 'GET', '/v1/comments?post=' . rawurlencode( $post ) . ( '' !== $after ? '&after=' . rawurlencode( $after ) : '' ) );
			if ( 200 !== $r['status'] || ! isset( $r['data']['comments'] ) || ! is_array( $r['data']['comments'] ) ) {
				return null;
			}
			$all  = array_merge( $all, $r['data']['comments'] );
			$next = isset( $r['data']['next'] ) && is_string( $r['data']['next'] ) ? $r['data']['next'] : '';
			if ( '' === $next || $next === $after ) {
				return $all;
			}
			$after = $next;
		}
		return null;
	}

	/**
	 * GET /v1/health.
	 *
	 * @return array As request().
	 */
	public function health() {
		return $this->request( 'GET', '/v1/health' );
	}

	/**
	 * The queue depths from /metrics (heinzel_queue_depth{queue="pending"} ...).
	 *
	 * @return array|null queue name => depth, or null when heinzel is down.
	 */
	public function depths() {
		$r = $this->request_text( '/metrics' );
		if ( null === $r ) {
			return null;
		}
		return self::parse_depths( $r );
	}

	/**
	 * The queue depths in a Prometheus text page.
	 *
	 * @param string $text The page.
	 * @return array queue name => depth.
	 */
	public static function parse_depths( $text ) {
		$depths = array();
		if ( preg_match_all( '/^heinzel_queue_depth\{queue="([a-z_]+)"\}\s+([0-9]+)\s*$/m', $text, $m, PREG_SET_ORDER ) ) {
			foreach ( $m as $row ) {
				$depths[ $row[1] ] = (int) $row[2];
			}
		}
		return $depths;
	}

	/**
	 * A GET whose answer is text.
	 *
	 * @param string $path Path.
	 * @return string|null The body of a 200, else null.
	 */
	private function request_text( $path ) {
		if ( ! function_exists( 'curl_init' ) ) {
			return null;
		}
		// phpcs:disable WordPress.WP.AlternativeFunctions
		$ch = curl_init( 'http://localhost' . $path );
		curl_setopt_array(
			$ch,
			array(
				CURLOPT_UNIX_SOCKET_PATH => $this->socket,
				CURLOPT_RETURNTRANSFER   => true,
				CURLOPT_CONNECTTIMEOUT   => self::CONNECT_TIMEOUT,
				CURLOPT_TIMEOUT          => self::TIMEOUT,
			)
		);
		$body   = curl_exec( $ch );
		$status = (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE );
		curl_close( $ch );
		// phpcs:enable
		return ( false === $body || 200 !== $status ) ? null : (string) $body;
	}
}
