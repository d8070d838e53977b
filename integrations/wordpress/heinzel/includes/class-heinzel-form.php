<?php
/**
 * The comment form: the math question (label, help text for screen
 * readers, works without JavaScript), the honeypot, the request id, and
 * a REST route that hands out a fresh question for every view of a page
 * that came out of a cache.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Adds heinzel's fields to WordPress's comment form.
 */
class Heinzel_Form {

	/**
	 * What a refused submission left for the form rendered in its answer,
	 * or null on an ordinary view.
	 *
	 * @var array|null
	 */
	private static $failed = null;

	/**
	 * Hooks.
	 */
	public static function register() {
		add_filter( 'comment_form_submit_field', array( __CLASS__, 'question_field' ), 10, 2 );
		add_action( 'comment_form_top', array( __CLASS__, 'notice' ) );
		add_filter( 'comment_form_field_comment', array( __CLASS__, 'keep_body' ) );
		add_filter( 'wp_get_current_commenter', array( __CLASS__, 'keep_commenter' ) );
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'enqueue' ) );
		add_action( 'rest_api_init', array( __CLASS__, 'rest_routes' ) );
	}

	/**
	 * Whether the person at the form answers a question: readers who are
	 * not logged in, and everyone when heinzel does not trust this site
	 * (no frontend key) to vouch for its users.
	 *
	 * @return bool
	 */
	public static function asks_question() {
		return ! is_user_logged_in() || ! heinzel_client()->trusted();
	}

	/**
	 * Remember what a refused submission left, for the form in its answer.
	 *
	 * @param array $failed Keys outcome, field, retry_after, fields, captcha, answer, request.
	 */
	public static function set_failed( array $failed ) {
		self::$failed = $failed;
	}

	/**
	 * The refused submission, or null.
	 *
	 * @return array|null
	 */
	public static function failed() {
		return self::$failed;
	}

	/**
	 * A new request id for a form: 32 hex digits.
	 *
	 * @return string
	 */
	public static function new_request_id() {
		return bin2hex( random_bytes( 16 ) );
	}

	/**
	 * Whether a posted request id has the form new_request_id() gives.
	 *
	 * @param mixed $id The posted value.
	 * @return bool
	 */
	public static function request_id_valid( $id ) {
		return is_string( $id ) && 1 === preg_match( '/^[0-9a-f]{32}$/', $id );
	}

	/**
	 * The math question, honeypot and hidden fields, before the submit button.
	 *
	 * @param string $submit_field The submit button's paragraph.
	 * @param array  $args         The arguments of comment_form().
	 * @return string
	 */
	public static function question_field( $submit_field, $args ) {
		unset( $args );
		$failed  = self::$failed;
		$request = $failed ? $failed['request'] : self::new_request_id();
		$html    = '<input type="hidden" name="heinzel_request" id="heinzel-request" value="' . esc_attr( $request ) . '" />';
		if ( ! self::asks_question() ) {
			return $html . $submit_field;
		}
		$answer = '';
		if ( $failed && 'unavailable' === $failed['outcome'] && $failed['captcha'] ) {
			// heinzel never saw the answer: the same question, answered, for the retry.
			$captcha = $failed['captcha'];
			$answer  = $failed['answer'];
		} else {
			$captcha = heinzel_client()->captcha( heinzel_lang() );
		}
		$refresh = $failed ? '0' : '1';
		// A real minus sign, which the theme's typography filter leaves alone.
		$captcha['question'] = str_replace( ' - ', " \u{2212} ", $captcha['question'] );
		if ( null === $captcha ) {
			$captcha = array(
				'id'            => '',
				'question'      => '…',
				'question_text' => __( 'The question cannot be loaded right now.', 'heinzel' ),
			);
		}
		$html .= '<p class="comment-form-heinzel-question" data-heinzel-refresh="' . esc_attr( $refresh ) . '">';
		$html .= '<label for="heinzel-answer">' . esc_html__( 'Math question', 'heinzel' ) . ': ';
		$html .= '<span id="heinzel-question">' . esc_html( $captcha['question'] ) . '</span>';
		$html .= ' <span class="required">*</span></label>';
		$html .= '<input id="heinzel-answer" name="heinzel_answer" type="text" inputmode="numeric" size="6" maxlength="20" autocomplete="off" required="required" aria-required="true" aria-describedby="heinzel-help" value="' . esc_attr( $answer ) . '" />';
		$html .= '<span id="heinzel-help" class="heinzel-help">';
		$html .= '<span id="heinzel-question-text">' . esc_html( $captcha['question_text'] ) . '</span>. ';
		$html .= esc_html__( 'Answer with digits or a word, e.g. 7 or seven.', 'heinzel' ) . '</span>';
		$html .= '<input type="hidden" name="heinzel_captcha" id="heinzel-captcha" value="' . esc_attr( $captcha['id'] ) . '" />';
		$html .= '<input type="hidden" name="heinzel_question" id="heinzel-question-shown" value="' . esc_attr( $captcha['question'] . "\n" . $captcha['question_text'] ) . '" />';
		$html .= '</p>';
		// People leave this empty; form-filling bots do not.
		$html .= '<p class="comment-form-heinzel-hp" aria-hidden="true" style="position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden">';
		$html .= '<label for="heinzel-hp">' . esc_html__( 'Leave empty', 'heinzel' ) . '</label>';
		$html .= '<input id="heinzel-hp" name="heinzel_hp" type="text" value="" tabindex="-1" autocomplete="off" /></p>';
		return $html . $submit_field;
	}

	/**
	 * The outcome of the last submission above the form: after a redirect
	 * (?heinzel=pending) or in the answer to a refused one.
	 */
	public static function notice() {
		$failed = self::$failed;
		if ( $failed ) {
			printf(
				'<p class="comment-notes heinzel-notice heinzel-error" id="heinzel-notice" role="alert"><strong>%s</strong></p>',
				esc_html( Heinzel_Messages::text( $failed['outcome'], $failed['field'], $failed['retry_after'] ) )
			);
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a display flag, not an action.
		$outcome = isset( $_GET['heinzel'] ) ? sanitize_key( wp_unslash( $_GET['heinzel'] ) ) : '';
		if ( in_array( $outcome, array( 'pending', 'approved', 'spam' ), true ) ) {
			$class = 'pending' === $outcome ? 'comment-awaiting-moderation' : 'heinzel-' . $outcome;
			printf(
				'<p class="comment-notes heinzel-notice %s" id="heinzel-notice" role="status"><em>%s</em></p>',
				esc_attr( $class ),
				esc_html( Heinzel_Messages::text( $outcome ) )
			);
		}
	}

	/**
	 * The reader's text back in the textarea after a refusal.
	 *
	 * @param string $field The comment field's HTML.
	 * @return string
	 */
	public static function keep_body( $field ) {
		$failed = self::$failed;
		if ( ! $failed || '' === $failed['fields']['body'] ) {
			return $field;
		}
		return preg_replace( '#(<textarea\b[^>]*>)\s*(</textarea>)#', '$1' . str_replace( array( '\\', '$' ), array( '\\\\', '\\$' ), esc_textarea( $failed['fields']['body'] ) ) . '$2', $field, 1 );
	}

	/**
	 * Name, e-mail and website back in the form after a refusal.
	 *
	 * @param array $commenter Keys comment_author, comment_author_email, comment_author_url.
	 * @return array
	 */
	public static function keep_commenter( $commenter ) {
		$failed = self::$failed;
		if ( $failed ) {
			$commenter['comment_author']       = $failed['fields']['author'];
			$commenter['comment_author_email'] = $failed['fields']['email'];
			$commenter['comment_author_url']   = $failed['fields']['url'];
		}
		return $commenter;
	}

	/**
	 * The small script that fetches a fresh question, on pages with a form.
	 */
	public static function enqueue() {
		if ( ! is_singular() || ! comments_open() || ! self::asks_question() ) {
			return;
		}
		wp_enqueue_script( 'heinzel', plugins_url( 'assets/heinzel.js', HEINZEL_PLUGIN_FILE ), array(), HEINZEL_PLUGIN_VERSION, true );
		wp_localize_script(
			'heinzel',
			'heinzelForm',
			array( 'url' => esc_url_raw( rest_url( 'heinzel/v1/question' ) ) )
		);
		wp_register_style( 'heinzel', false, array(), HEINZEL_PLUGIN_VERSION );
		wp_enqueue_style( 'heinzel' );
		wp_add_inline_style( 'heinzel', '.heinzel-help{display:block;font-size:.9em}.heinzel-error{color:#b32d2e}' );
	}

	/**
	 * GET /wp-json/heinzel/v1/question: a fresh question and request id.
	 */
	public static function rest_routes() {
		register_rest_route(
			'heinzel/v1',
			'/question',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'rest_question' ),
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * The REST route's answer; never cached.
	 *
	 * @return WP_REST_Response
	 */
	public static function rest_question() {
		$captcha = heinzel_client()->captcha( heinzel_lang() );
		if ( null === $captcha ) {
			$r = new WP_REST_Response( array( 'error' => 'unavailable' ), 503 );
		} else {
			$captcha['request'] = self::new_request_id();
			$r                  = new WP_REST_Response( $captcha, 200 );
		}
		$r->header( 'Cache-Control', 'no-store, max-age=0' );
		return $r;
	}
}
