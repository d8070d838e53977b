<?php
/**
 * The blog's history for heinzel's classifier: its approved comments as
 * ham, its spam folder as spam, as the JSON lines `heinzelctl learn`
 * reads.  A download on the settings page, and bin/heinzel-history.php
 * for the command line.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Exports comments for heinzelctl learn.
 */
class Heinzel_History {

	/**
	 * Comments fetched per query.
	 */
	const BATCH = 500;

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'admin_post_heinzel_history', array( __CLASS__, 'download' ) );
		add_action( 'admin_post_heinzel_train', array( __CLASS__, 'train_action' ) );
	}

	/**
	 * Bytes of JSON lines per POST /v1/learn, under heinzel's default
	 * max_body of 64k.
	 */
	const LEARN_BYTES = 48000;

	/**
	 * Comments per POST /v1/learn (heinzel takes at most 1000).
	 */
	const LEARN_LINES = 500;

	/**
	 * Feed the comments of one kind to heinzel's classifier through
	 * POST /v1/learn (needs the frontend key), in batches.
	 *
	 * @param string $kind Either "ham" or "spam".
	 * @return array { learned: int, skipped: int, error: string }
	 */
	public static function train( $kind ) {
		$result = array(
			'learned' => 0,
			'skipped' => 0,
			'error'   => '',
		);
		$tmp = fopen( 'php://temp', 'w+' ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		self::export( $kind, $tmp );
		rewind( $tmp );
		$batch = '';
		$lines = 0;
		for ( ;; ) {
			$line = fgets( $tmp );
			if ( false !== $line && strlen( $line ) > self::LEARN_BYTES ) {
				++$result['skipped'];	// Longer than heinzel takes in one request.
				continue;
			}
			if ( '' !== $batch && ( false === $line || $lines >= self::LEARN_LINES || strlen( $batch ) + strlen( $line ) > self::LEARN_BYTES ) ) {
				$r = heinzel_client()->learn( $kind, $batch );
				if ( isset( $r['data']['learned'] ) ) {
					$result['learned'] += (int) $r['data']['learned'];
				}
				if ( isset( $r['data']['skipped'] ) ) {
					$result['skipped'] += (int) $r['data']['skipped'];
				}
				if ( 200 !== $r['status'] ) {
					$result['error'] = 0 === $r['status'] ? $r['error'] : ( isset( $r['data']['message'] ) ? (string) $r['data']['message'] : 'HTTP ' . $r['status'] );
					break;
				}
				$batch = '';
				$lines = 0;
			}
			if ( false === $line ) {
				break;
			}
			$batch .= $line;
			++$lines;
		}
		fclose( $tmp ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		return $result;
	}

	/**
	 * admin-post.php action heinzel_train: both kinds, then back to the
	 * settings page with the counts.
	 */
	public static function train_action() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'heinzel' ), 403 );
		}
		check_admin_referer( 'heinzel_train' );
		$args = array( 'page' => 'heinzel' );
		foreach ( array( 'ham', 'spam' ) as $kind ) {
			$r                        = self::train( $kind );
			$args[ 'learned_' . $kind ] = $r['learned'];
			if ( '' !== $r['error'] ) {
				$args['learn_error'] = 1;
				break;
			}
		}
		wp_safe_redirect( add_query_arg( $args, admin_url( 'options-general.php' ) ) );
		exit;
	}

	/**
	 * One comment as a line for heinzelctl learn: the fields of
	 * POST /v1/comments that the classifier reads, those WordPress has
	 * in a form heinzel takes.
	 *
	 * @param object $c A wp_comments row (or WP_Comment).
	 * @return string|null The JSON, or null for a comment without text.
	 */
	public static function line( $c ) {
		$body = trim( (string) $c->comment_content );
		if ( '' === $body ) {
			return null;
		}
		$o = array(
			'post'   => (string) $c->comment_post_ID,
			'author' => '' !== trim( (string) $c->comment_author ) ? (string) $c->comment_author : '-',
			'body'   => $body,
		);
		if ( is_email( $c->comment_author_email ) ) {
			$o['email'] = (string) $c->comment_author_email;
		}
		if ( preg_match( '#^https?://[^\s/]+#i', (string) $c->comment_author_url ) ) {
			$o['url'] = (string) $c->comment_author_url;
		}
		if ( filter_var( $c->comment_author_IP, FILTER_VALIDATE_IP ) ) {
			$o['ip'] = (string) $c->comment_author_IP;
		}
		return wp_json_encode( $o, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
	}

	/**
	 * Write the comments of one kind as JSON lines.  Comments that came
	 * from heinzel are left out: heinzel learned them when they were
	 * moderated.
	 *
	 * @param string   $kind Either "ham" (approved) or "spam" (the spam folder).
	 * @param resource $out  Where to write.
	 * @return int Lines written.
	 */
	public static function export( $kind, $out ) {
		global $wpdb;
		$status = 'spam' === $kind ? 'spam' : '1';
		$n      = 0;
		$last   = 0;
		do {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a one-off export in batches.
			$rows = $wpdb->get_results(
				$wpdb->prepare(
					"SELECT c.* FROM {$wpdb->comments} c LEFT JOIN {$wpdb->commentmeta} m ON m.comment_id = c.comment_ID AND m.meta_key = 'heinzel_id' WHERE c.comment_approved = %s AND c.comment_type IN ('comment', '') AND m.meta_id IS NULL AND c.comment_ID > %d ORDER BY c.comment_ID LIMIT %d",
					$status,
					$last,
					self::BATCH
				)
			);
			foreach ( $rows as $c ) {
				$last = (int) $c->comment_ID;
				$line = self::line( $c );
				if ( null !== $line ) {
					fwrite( $out, $line . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions
					++$n;
				}
			}
		} while ( count( $rows ) === self::BATCH );
		return $n;
	}

	/**
	 * How many comments of each kind there are to export.
	 *
	 * @return array { ham: int, spam: int }
	 */
	public static function counts() {
		$c = wp_count_comments();
		return array(
			'ham'  => (int) $c->approved,
			'spam' => (int) $c->spam,
		);
	}

	/**
	 * admin-post.php?action=heinzel_history&kind=ham|spam: the download.
	 */
	public static function download() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'heinzel' ), 403 );
		}
		check_admin_referer( 'heinzel_history' );
		$kind = isset( $_GET['kind'] ) && 'spam' === $_GET['kind'] ? 'spam' : 'ham';
		nocache_headers();
		header( 'Content-Type: application/x-ndjson; charset=utf-8' );
		header( 'Content-Disposition: attachment; filename="heinzel-' . $kind . '.jsonl"' );
		$out = fopen( 'php://output', 'w' ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		self::export( $kind, $out );
		fclose( $out ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		exit;
	}
}
