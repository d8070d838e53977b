<?php
/**
 * What heinzel's answers mean for the reader: one outcome per answer, and
 * the sentence the reader sees for it.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Outcomes of a submission and their messages.
 */
class Heinzel_Messages {

	/**
	 * The outcome of one POST /v1/comments answer.
	 *
	 * @param array $r As Heinzel_Client::request().
	 * @return string pending, approved, captcha, spam, duplicate, invalid, too_large, rate_limited, unavailable or error.
	 */
	public static function outcome( array $r ) {
		$status = (int) $r['status'];
		$error  = isset( $r['data']['error'] ) ? (string) $r['data']['error'] : '';
		if ( 202 === $status ) {
			$s = isset( $r['data']['status'] ) ? (string) $r['data']['status'] : '';
			return 'approved' === $s ? 'approved' : 'pending';
		}
		if ( 0 === $status || 503 === $status ) {
			return 'unavailable';
		}
		if ( 403 === $status && in_array( $error, array( 'captcha', 'spam' ), true ) ) {
			return $error;
		}
		if ( 409 === $status ) {
			return 'duplicate';
		}
		if ( 413 === $status ) {
			return 'too_large';
		}
		if ( 422 === $status ) {
			return 'invalid';
		}
		if ( 429 === $status ) {
			return 'rate_limited';
		}
		return 'error';
	}

	/**
	 * Whether the reader's text stays in the form for this outcome.
	 *
	 * @param string $outcome As outcome().
	 * @return bool
	 */
	public static function keeps_text( $outcome ) {
		return ! in_array( $outcome, array( 'pending', 'approved', 'spam' ), true );
	}

	/**
	 * The sentence for an outcome, in the site's language.
	 *
	 * @param string $outcome     As outcome().
	 * @param string $field       The field at fault, for invalid.
	 * @param int    $retry_after Seconds, for rate_limited and unavailable.
	 * @return string
	 */
	public static function text( $outcome, $field = '', $retry_after = 0 ) {
		switch ( $outcome ) {
			case 'pending':
				return __( 'Your comment is awaiting moderation.', 'heinzel' );
			case 'approved':
				return __( 'Thank you! Your comment is published.', 'heinzel' );
			case 'captcha':
				return __( 'The answer to the math question was not right. Please answer the new question; your comment is still here.', 'heinzel' );
			case 'spam':
				return __( 'Your comment looks like spam to our filter. It is kept for a review and will not appear before a person has looked at it.', 'heinzel' );
			case 'duplicate':
				return __( 'You have sent this comment already.', 'heinzel' );
			case 'too_large':
				return __( 'Your comment is too long. Please shorten it.', 'heinzel' );
			case 'invalid':
				return self::field_text( $field );
			case 'rate_limited':
				return sprintf(
					/* translators: %d: seconds to wait */
					_n( 'Too many comments at once. Please send it again in %d second.', 'Too many comments at once. Please send it again in %d seconds.', max( 1, $retry_after ), 'heinzel' ),
					max( 1, $retry_after )
				);
			case 'unavailable':
				return __( 'Comments cannot be taken right now. Nothing is lost: your comment is still in the form. Please send it again in a minute.', 'heinzel' );
			case 'honeypot':
				return __( 'Please leave the field "Leave empty" empty.', 'heinzel' );
			default:
				return __( 'Your comment could not be sent. Please try again.', 'heinzel' );
		}
	}

	/**
	 * The sentence for a field heinzel refused.
	 *
	 * @param string $field API field name.
	 * @return string
	 */
	public static function field_text( $field ) {
		switch ( $field ) {
			case 'author':
				return __( 'Please enter your name.', 'heinzel' );
			case 'email':
				return __( 'Please enter a valid email address.', 'heinzel' );
			case 'url':
				return __( 'Please enter a valid website address (starting with http:// or https://), or leave it empty.', 'heinzel' );
			case 'body':
				return __( 'Please type your comment.', 'heinzel' );
			case 'captcha_answer':
			case 'captcha_id':
				return __( 'Please answer the math question.', 'heinzel' );
			default:
				return __( 'Please check your entries.', 'heinzel' );
		}
	}
}
