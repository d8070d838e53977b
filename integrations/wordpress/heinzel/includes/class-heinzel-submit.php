<?php
/**
 * Submission: a comment posted through WordPress's form goes to heinzeld,
 * and WordPress stores nothing.  Accepted: back to the post with the
 * outcome (?heinzel=pending).  Refused: the post page again, with the
 * message and the reader's text in the form, never a bare error page.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Hands comments to heinzel.
 */
class Heinzel_Submit {

	/**
	 * Hooks.  Early on pre_comment_on_post: WordPress has checked that the
	 * post exists and takes comments, and has not touched the comment yet.
	 */
	public static function register() {
		add_action( 'pre_comment_on_post', array( __CLASS__, 'handle' ), 1 );
		add_filter( 'rest_pre_insert_comment', array( __CLASS__, 'refuse_rest' ), 1 );
	}

	/**
	 * Whose comments take WordPress's own path (and are approved at once):
	 * people who may moderate comments.
	 *
	 * @return bool
	 */
	public static function wordpress_path() {
		return current_user_can( 'moderate_comments' );
	}

	/**
	 * Comments through the REST API would pass heinzel by: only moderators.
	 *
	 * @param stdClass|WP_Error $prepared The comment about to be inserted.
	 * @return stdClass|WP_Error
	 */
	public static function refuse_rest( $prepared ) {
		if ( is_wp_error( $prepared ) || self::wordpress_path() ) {
			return $prepared;
		}
		return new WP_Error( 'heinzel_use_form', __( 'Comments are sent through the comment form.', 'heinzel' ), array( 'status' => 403 ) );
	}

	/**
	 * The request id heinzel gets: the form's id mixed with the comment,
	 * so that two readers of one cached page (same form id) never share
	 * one, while a retry of the same form with the same text does.
	 *
	 * @param string $form_request The form's request id.
	 * @param string $email        The reader's e-mail address.
	 * @param string $body         The comment.
	 * @return string 32 hex digits.
	 */
	public static function request_id( $form_request, $email, $body ) {
		return substr( hash( 'sha256', $form_request . "\0" . strtolower( $email ) . "\0" . $body ), 0, 32 );
	}

	/**
	 * The API fields of a posted form.
	 *
	 * @param int     $post_id The post.
	 * @param array   $p       The form, unslashed.
	 * @param WP_User $user    The person posting (ID 0 when not logged in).
	 * @return array
	 */
	public static function fields( $post_id, array $p, $user ) {
		$s = static function ( $key ) use ( $p ) {
			return isset( $p[ $key ] ) && is_string( $p[ $key ] ) ? trim( $p[ $key ] ) : '';
		};
		if ( $user->exists() ) {
			$author = '' !== $user->display_name ? $user->display_name : $user->user_login;
			$email  = $user->user_email;
			$url    = $user->user_url;
		} else {
			$author = $s( 'author' );
			$email  = $s( 'email' );
			$url    = $s( 'url' );
		}
		$form_request = $s( 'heinzel_request' );
		if ( ! Heinzel_Form::request_id_valid( $form_request ) ) {
			$form_request = Heinzel_Form::new_request_id();
		}
		return array(
			'post'           => (string) $post_id,
			'author'         => $author,
			'email'          => $email,
			'url'            => $url,
			'body'           => $s( 'comment' ),
			'captcha_id'     => $s( 'heinzel_captcha' ),
			'captcha_answer' => $s( 'heinzel_answer' ),
			'honeypot'       => $s( 'heinzel_hp' ),
			'form_request'   => $form_request,
			'wp_parent'      => isset( $p['comment_parent'] ) ? absint( $p['comment_parent'] ) : 0,
			'question'       => $s( 'heinzel_question' ),
		);
	}

	/**
	 * pre_comment_on_post: hand the comment to heinzel and answer the
	 * reader; WordPress goes no further.
	 *
	 * @param int $post_id The post.
	 */
	public static function handle( $post_id ) {
		if ( self::wordpress_path() ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- WordPress's public comment form carries no nonce; heinzel's question guards it.
		$form = self::fields( (int) $post_id, wp_unslash( $_POST ), wp_get_current_user() );
		$api  = self::api_fields( $form, (int) $post_id );
		// A logged-in person answers no question: the site vouches with its key.
		$vouch = ! Heinzel_Form::asks_question();
		if ( $vouch ) {
			unset( $api['captcha_id'], $api['captcha_answer'] );
		}
		$r = heinzel_client()->submit( $api, $vouch );

		$outcome = Heinzel_Messages::outcome( $r );
		if ( ! Heinzel_Messages::keeps_text( $outcome ) ) {
			if ( 'spam' !== $outcome && ! empty( $r['data']['id'] ) ) {
				Heinzel_Sync::remember_submission( (int) $post_id, (string) $r['data']['id'], $form['wp_parent'], isset( $api['parent'] ) );
				if ( 'approved' === $outcome ) {
					Heinzel_Sync::sync_post( (int) $post_id, true );
				}
			}
			$to = add_query_arg( 'heinzel', $outcome, get_permalink( $post_id ) ) . '#heinzel-notice';
			wp_safe_redirect( $to, 303 );
			exit;
		}
		self::render_refused( (int) $post_id, $form, $outcome, $r );
		exit;
	}

	/**
	 * What goes to POST /v1/comments.
	 *
	 * @param array $form    As fields().
	 * @param int   $post_id The post.
	 * @return array
	 */
	public static function api_fields( array $form, $post_id ) {
		$server = wp_unslash( $_SERVER );
		$ip     = isset( $server['REMOTE_ADDR'] ) ? preg_replace( '/[^0-9a-fA-F:., ]/', '', (string) $server['REMOTE_ADDR'] ) : '';
		$api    = array(
			'post'       => $form['post'],
			'author'     => $form['author'],
			'email'      => $form['email'],
			'body'       => $form['body'],
			// The address as WordPress sees it, proxies and all (its own filter).
			'ip'         => (string) apply_filters( 'pre_comment_user_ip', $ip ),
			'user_agent' => self::header_text( $server, 'HTTP_USER_AGENT', 254 ),
			'referrer'   => self::header_text( $server, 'HTTP_REFERER', 1000 ),
			'lang'       => heinzel_lang(),
			'request_id' => self::request_id( $form['form_request'], $form['email'], $form['body'] ),
			'post_title' => get_the_title( $post_id ),
			'post_url'   => get_permalink( $post_id ),
		);
		foreach ( array( 'url', 'captcha_id', 'captcha_answer', 'honeypot' ) as $k ) {
			if ( '' !== $form[ $k ] ) {
				$api[ $k ] = $form[ $k ];
			}
		}
		if ( $form['wp_parent'] > 0 ) {
			$hid = get_comment_meta( $form['wp_parent'], 'heinzel_id', true );
			if ( is_string( $hid ) && '' !== $hid ) {
				$api['parent'] = $hid;
			}
		}
		foreach ( array( 'ip', 'user_agent', 'referrer' ) as $k ) {
			if ( '' === $api[ $k ] ) {
				unset( $api[ $k ] );
			}
		}
		return $api;
	}

	/**
	 * A request header as heinzel takes it: valid UTF-8 without control
	 * characters, at most $max bytes, cut between characters.  A browser's
	 * odd header must not get the reader's comment refused as invalid.
	 *
	 * @param array  $server The request's $_SERVER, unslashed.
	 * @param string $key    E.g. HTTP_USER_AGENT.
	 * @param int    $max    Bytes.
	 * @return string
	 */
	public static function header_text( array $server, $key, $max ) {
		if ( ! isset( $server[ $key ] ) || ! is_string( $server[ $key ] ) ) {
			return '';
		}
		$v = $server[ $key ];
		if ( 1 !== preg_match( '//u', $v ) ) {
			return '';
		}
		$v = (string) preg_replace( '/[\x00-\x1f\x7f\x{80}-\x{9f}]/u', '', $v );
		if ( strlen( $v ) > $max ) {
			$next = ord( $v[ $max ] );
			$v    = substr( $v, 0, $max );
			if ( 0x80 === ( $next & 0xc0 ) ) {
				// The cut split a character: drop what is left of it.
				$v = (string) preg_replace( '/[\xc0-\xff][\x80-\xbf]*$/', '', $v );
			}
		}
		return trim( $v );
	}

	/**
	 * The post page again, as the answer to the refused POST: the message
	 * above the form, the reader's text in it.
	 *
	 * @param int    $post_id The post.
	 * @param array  $form    As fields().
	 * @param string $outcome As Heinzel_Messages::outcome().
	 * @param array  $r       The answer of heinzel.
	 */
	private static function render_refused( $post_id, array $form, $outcome, array $r ) {
		$captcha = null;
		if ( 'unavailable' === $outcome && '' !== $form['captcha_id'] ) {
			$shown   = explode( "\n", $form['question'], 2 );
			$captcha = array(
				'id'            => $form['captcha_id'],
				'question'      => $shown[0],
				'question_text' => isset( $shown[1] ) ? $shown[1] : '',
			);
		}
		Heinzel_Form::set_failed(
			array(
				'outcome'     => $outcome,
				'field'       => isset( $r['data']['field'] ) ? (string) $r['data']['field'] : '',
				'retry_after' => (int) $r['retry_after'],
				'fields'      => $form,
				'captcha'     => $captcha,
				'answer'      => $form['captcha_answer'],
				'request'     => $form['form_request'],
			)
		);
		if ( $form['wp_parent'] > 0 ) {
			// The reply form stays under the comment replied to.
			$_GET['replytocom'] = (string) $form['wp_parent'];
		}
		nocache_headers();
		$post = get_post( $post_id );
		if ( 'page' === $post->post_type ) {
			$query = array( 'page_id' => $post_id );
		} else {
			$query = array(
				'p'         => $post_id,
				'post_type' => $post->post_type,
			);
		}
		if ( ! defined( 'WP_USE_THEMES' ) ) {
			define( 'WP_USE_THEMES', true );
		}
		// The main query for the post, as wp() would set it up for its
		// own URL (this request's URL is wp-comments-post.php).
		$GLOBALS['wp']->query_vars = $query;
		$GLOBALS['wp']->query_posts();
		$GLOBALS['wp']->register_globals();
		if ( ! have_posts() ) {
			// The post cannot be shown (e.g. private): WordPress's own error page, with the message.
			wp_die( esc_html( Heinzel_Messages::text( $outcome ) ), '', array( 'back_link' => true ) );
		}
		require ABSPATH . WPINC . '/template-loader.php';
	}
}
