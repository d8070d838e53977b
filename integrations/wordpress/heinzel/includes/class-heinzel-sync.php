<?php
/**
 * Publication: heinzel's approved comments of a post become real
 * WordPress comments (comment meta heinzel_id, threaded, counted, in the
 * feeds), once each, and leave again when heinzel no longer publishes
 * them (marked spam, rejected or deleted with heinzelctl).
 *
 * The pull runs on a view of the post (at most every SYNC_EVERY seconds
 * per post), on a WP-cron tick for posts with recent submissions, and
 * after an auto-approved submission.  One sync per post at a time
 * (MySQL GET_LOCK): concurrent views never insert a comment twice.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Pulls heinzel's published comments into WordPress.
 */
class Heinzel_Sync {

	/**
	 * Seconds between two pulls for one post on views.
	 */
	const SYNC_EVERY = 2;

	/**
	 * Posts with a submission younger than this are pulled by WP-cron.
	 */
	const RECENT_SECONDS = 14 * DAY_IN_SECONDS;

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'template_redirect', array( __CLASS__, 'on_view' ), 1 );
		add_filter( 'cron_schedules', array( __CLASS__, 'cron_schedules' ) );
		add_action( 'heinzel_sync', array( __CLASS__, 'cron' ) );
		add_action( 'init', array( __CLASS__, 'schedule' ) );
		add_action( 'rest_api_init', array( __CLASS__, 'rest_routes' ) );
	}

	/**
	 * POST /wp-json/heinzel/v1/push: heinzel's webhook ([notify] webhook)
	 * as a trigger.  Whatever the body says, the only effect is a pull of
	 * the named post over the socket (throttled like a view), so a forged
	 * push changes nothing heinzel does not publish.
	 */
	public static function rest_routes() {
		register_rest_route(
			'heinzel/v1',
			'/push',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'rest_push' ),
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * The push's answer: 202 once the pull ran (or was not due).
	 *
	 * @param WP_REST_Request $request The push.
	 * @return WP_REST_Response
	 */
	public static function rest_push( $request ) {
		$post = $request->get_param( 'post' );
		$id   = is_scalar( $post ) && preg_match( '/^[0-9]+$/', (string) $post ) ? (int) $post : 0;
		if ( $id <= 0 || ! get_post( $id ) ) {
			return new WP_REST_Response( array( 'error' => 'unknown post' ), 404 );
		}
		$r = self::sync_post( $id );
		return new WP_REST_Response( array( 'pulled' => null !== $r ), 202 );
	}

	/**
	 * Every five minutes, for the cron tick.
	 *
	 * @param array $schedules WordPress's schedules.
	 * @return array
	 */
	public static function cron_schedules( $schedules ) {
		$schedules['heinzel_five_minutes'] = array(
			'interval' => 5 * MINUTE_IN_SECONDS,
			'display'  => __( 'Every five minutes', 'heinzel' ),
		);
		return $schedules;
	}

	/**
	 * The cron event exists while the plugin is active.
	 */
	public static function schedule() {
		if ( ! wp_next_scheduled( 'heinzel_sync' ) ) {
			wp_schedule_event( time() + MINUTE_IN_SECONDS, 'heinzel_five_minutes', 'heinzel_sync' );
		}
	}

	/**
	 * Deactivation: no more ticks.
	 */
	public static function deactivate() {
		wp_clear_scheduled_hook( 'heinzel_sync' );
	}

	/**
	 * A view of a post pulls its comments first.
	 */
	public static function on_view() {
		if ( ! is_singular() ) {
			return;
		}
		$id = (int) get_queried_object_id();
		$r  = self::sync_post( $id );
		if ( $r && ( $r['inserted'] || $r['removed'] ) ) {
			// The main query ran before this hook: show this view the new count.
			global $wp_query;
			$fresh = get_post( $id );
			if ( $fresh && isset( $wp_query->post ) && (int) $wp_query->post->ID === $id ) {
				$wp_query->post           = $fresh;
				$wp_query->posts[0]       = $fresh;
				$wp_query->queried_object = $fresh;
				$GLOBALS['post']          = $fresh; // phpcs:ignore WordPress.WP.GlobalVariablesOverride -- the same post, fresh.
			}
		}
	}

	/**
	 * The cron tick: every post with a recent submission.
	 */
	public static function cron() {
		$recent = get_option( 'heinzel_recent_posts', array() );
		$now    = time();
		$keep   = array();
		foreach ( is_array( $recent ) ? $recent : array() as $post_id => $when ) {
			if ( $now - (int) $when < self::RECENT_SECONDS ) {
				$keep[ (int) $post_id ] = (int) $when;
				self::sync_post( (int) $post_id, true );
			}
		}
		update_option( 'heinzel_recent_posts', $keep, false );
	}

	/**
	 * Note a stored submission: its post for the cron tick, and where a
	 * reply to a comment heinzel does not know (one written in WordPress)
	 * belongs, for when it is published.  Ids only, never the comment.
	 *
	 * @param int    $post_id     The post.
	 * @param string $heinzel_id  The comment's heinzel id.
	 * @param int    $wp_parent   The WordPress comment replied to, or 0.
	 * @param bool   $parent_sent Whether heinzel got the parent itself.
	 */
	public static function remember_submission( $post_id, $heinzel_id, $wp_parent, $parent_sent ) {
		$recent = get_option( 'heinzel_recent_posts', array() );
		$recent = is_array( $recent ) ? $recent : array();

		$recent[ $post_id ] = time();
		update_option( 'heinzel_recent_posts', $recent, false );
		if ( $wp_parent > 0 && ! $parent_sent && self::id_valid( $heinzel_id ) ) {
			update_option( 'heinzel_parent_' . $heinzel_id, (int) $wp_parent, false );
		}
	}

	/**
	 * Whether a string is a heinzel comment id.
	 *
	 * @param mixed $id The value.
	 * @return bool
	 */
	public static function id_valid( $id ) {
		return is_string( $id ) && 1 === preg_match( '/^[0-9a-f]{20}$/', $id );
	}

	/**
	 * What to do: which of heinzel's comments to insert (in heinzel's
	 * order, oldest first, so parents come before replies) and which
	 * WordPress comments to remove.  Pure, for the unit tests.
	 *
	 * @param array $remote The published comments of the post in heinzel, all of them.
	 * @param array $local  The post's comments from heinzel: heinzel id => WordPress comment ID.
	 * @return array { insert: array of remote comments, remove: array of WordPress comment IDs }
	 */
	public static function plan( array $remote, array $local ) {
		$insert = array();
		$seen   = array();
		foreach ( $remote as $c ) {
			if ( ! is_array( $c ) || ! isset( $c['id'] ) || ! self::id_valid( $c['id'] ) ) {
				continue;
			}
			if ( isset( $seen[ $c['id'] ] ) ) {
				continue;
			}
			$seen[ $c['id'] ] = true;
			if ( ! isset( $local[ $c['id'] ] ) ) {
				$insert[] = $c;
			}
		}
		$remove = array();
		foreach ( $local as $hid => $wp_id ) {
			if ( ! isset( $seen[ $hid ] ) ) {
				$remove[] = (int) $wp_id;
			}
		}
		return array(
			'insert' => $insert,
			'remove' => $remove,
		);
	}

	/**
	 * Pull one post's published comments and make WordPress agree.
	 *
	 * @param int  $post_id The post.
	 * @param bool $force   Skip the per-view throttle.
	 * @return array|null { inserted, removed } or null when nothing ran.
	 */
	public static function sync_post( $post_id, $force = false ) {
		global $wpdb;

		if ( $post_id <= 0 || ! get_post( $post_id ) ) {
			return null;
		}
		$throttle = 'heinzel_synced_' . $post_id;
		if ( ! $force && get_transient( $throttle ) ) {
			return null;
		}
		set_transient( $throttle, 1, self::SYNC_EVERY );
		$lock = 'heinzel_sync_' . get_current_blog_id() . '_' . $post_id;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a lock, no data.
		$got = $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $lock, $force ? 5 : 0 ) );
		if ( '1' !== (string) $got ) {
			return null;	// Another process is at it for this post.
		}
		try {
			$remote = heinzel_client()->published( (string) $post_id );
			if ( null === $remote ) {
				return null;
			}
			return self::apply( $post_id, self::plan( $remote, self::local( $post_id ) ) );
		} finally {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * The post's WordPress comments that came from heinzel.
	 *
	 * @param int $post_id The post.
	 * @return array heinzel id => WordPress comment ID.
	 */
	public static function local( $post_id ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- fresh inside the lock, never from a cache.
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				"SELECT m.meta_value AS hid, c.comment_ID AS wp_id FROM {$wpdb->comments} c JOIN {$wpdb->commentmeta} m ON m.comment_id = c.comment_ID AND m.meta_key = 'heinzel_id' WHERE c.comment_post_ID = %d",
				$post_id
			)
		);
		$map = array();
		foreach ( $rows as $row ) {
			$map[ $row->hid ] = (int) $row->wp_id;
		}
		return $map;
	}

	/**
	 * Carry out a plan.
	 *
	 * @param int   $post_id The post.
	 * @param array $plan    As plan().
	 * @return array { inserted, removed }
	 */
	private static function apply( $post_id, array $plan ) {
		$map      = self::local( $post_id );
		$inserted = 0;
		foreach ( $plan['insert'] as $c ) {
			$wp_id = self::insert( $post_id, $c, $map );
			if ( $wp_id > 0 ) {
				$map[ $c['id'] ] = $wp_id;
				++$inserted;
			}
		}
		$removed = 0;
		foreach ( $plan['remove'] as $wp_id ) {
			if ( wp_delete_comment( $wp_id, true ) ) {
				++$removed;
			}
		}
		if ( $inserted || $removed ) {
			clean_post_cache( $post_id );
		}
		return array(
			'inserted' => $inserted,
			'removed'  => $removed,
		);
	}

	/**
	 * One of heinzel's comments as a WordPress comment, filtered like any
	 * reader's comment (kses), approved, with its heinzel id.
	 *
	 * @param int   $post_id The post.
	 * @param array $c       The comment as heinzel lists it.
	 * @param array $map     Heinzel id => WordPress comment ID, for the parent.
	 * @return int The WordPress comment ID, 0 on failure.
	 */
	private static function insert( $post_id, array $c, array $map ) {
		$parent = 0;
		if ( ! empty( $c['parent'] ) && isset( $map[ $c['parent'] ] ) ) {
			$parent = $map[ $c['parent'] ];
		} else {
			$wp_parent = (int) get_option( 'heinzel_parent_' . $c['id'], 0 );
			$pc        = $wp_parent > 0 ? get_comment( $wp_parent ) : null;
			if ( $pc && (int) $pc->comment_post_ID === $post_id ) {
				$parent = $wp_parent;
			}
		}
		$created = isset( $c['created_at'] ) ? strtotime( (string) $c['created_at'] ) : false;
		$created = false === $created ? time() : $created;
		// A reader's text, filtered as WordPress filters a reader's comment
		// (its comment tags only), whoever's view runs the sync: an admin's
		// unfiltered_html must not let a reader's markup through.
		$data = array(
			'comment_post_ID'      => $post_id,
			'comment_author'       => isset( $c['author'] ) ? sanitize_text_field( (string) $c['author'] ) : '',
			'comment_author_email' => '',
			'comment_author_url'   => isset( $c['url'] ) ? esc_url_raw( (string) $c['url'], array( 'http', 'https' ) ) : '',
			'comment_content'      => isset( $c['body'] ) ? wp_kses_data( (string) $c['body'] ) : '',
			'comment_type'         => 'comment',
			'comment_parent'       => $parent,
			'user_id'              => 0,
			'comment_author_IP'    => '',
			'comment_agent'        => 'heinzel',
			'comment_date_gmt'     => gmdate( 'Y-m-d H:i:s', $created ),
			'comment_date'         => get_date_from_gmt( gmdate( 'Y-m-d H:i:s', $created ) ),
		);
		// And the filters other plugins hook into comments.
		$data                     = wp_filter_comment( wp_slash( $data ) );
		$data['comment_approved'] = 1;
		$data['comment_meta']     = array( 'heinzel_id' => $c['id'] );
		$wp_id                    = wp_insert_comment( $data );
		if ( ! $wp_id ) {
			return 0;
		}
		delete_option( 'heinzel_parent_' . $c['id'] );
		return (int) $wp_id;
	}
}
