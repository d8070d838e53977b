<?php
/**
 * The admin side: Settings > heinzel (socket path, test connection, the
 * history import) and the pending count on the dashboard.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Settings page and dashboard widget.
 */
class Heinzel_Admin {

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_init', array( __CLASS__, 'settings' ) );
		add_action( 'wp_dashboard_setup', array( __CLASS__, 'dashboard' ) );
	}

	/**
	 * Settings > heinzel.
	 */
	public static function menu() {
		add_options_page( 'heinzel', 'heinzel', 'manage_options', 'heinzel', array( __CLASS__, 'page' ) );
	}

	/**
	 * The socket path setting.
	 */
	public static function settings() {
		register_setting(
			'heinzel',
			'heinzel_socket',
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_socket' ),
				'default'           => '',
			)
		);
	}

	/**
	 * An absolute path or nothing (the default).
	 *
	 * @param mixed $value The posted path.
	 * @return string
	 */
	public static function sanitize_socket( $value ) {
		$value = is_string( $value ) ? trim( $value ) : '';
		if ( '' !== $value && ( '/' !== $value[0] || preg_match( '/[\x00-\x1f]/', $value ) ) ) {
			add_settings_error( 'heinzel_socket', 'heinzel_socket', __( 'The socket path must be an absolute path.', 'heinzel' ) );
			return (string) get_option( 'heinzel_socket', '' );
		}
		return $value;
	}

	/**
	 * The test connection's result: health and queue depths.
	 *
	 * @return array { ok: bool, text: string }
	 */
	public static function test_connection() {
		$client = heinzel_client();
		$health = $client->health();
		if ( 0 === $health['status'] ) {
			return array(
				'ok'   => false,
				/* translators: 1: socket path, 2: error */
				'text' => sprintf( __( 'heinzel cannot be reached at %1$s: %2$s', 'heinzel' ), $client->socket(), $health['error'] ),
			);
		}
		$redis = isset( $health['data']['redis'] ) ? (string) $health['data']['redis'] : '?';
		if ( 200 !== $health['status'] ) {
			return array(
				'ok'   => false,
				/* translators: 1: HTTP status, 2: redis up or down */
				'text' => sprintf( __( 'heinzel answers, but is not healthy (status %1$d, Redis %2$s).', 'heinzel' ), $health['status'], $redis ),
			);
		}
		$d = $client->depths();
		$d = is_array( $d ) ? $d : array();
		return array(
			'ok'   => true,
			'text' => sprintf(
				/* translators: 1: redis state, 2: pending, 3: approved, 4: spam */
				__( 'Connected. heinzel is healthy (Redis %1$s). Queues: %2$d pending, %3$d approved, %4$d spam.', 'heinzel' ),
				$redis,
				isset( $d['pending'] ) ? $d['pending'] : 0,
				isset( $d['approved'] ) ? $d['approved'] : 0,
				isset( $d['spam'] ) ? $d['spam'] : 0
			),
		);
	}

	/**
	 * The settings page.
	 */
	public static function page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$test = null;
		if ( isset( $_POST['heinzel_test'] ) ) {
			check_admin_referer( 'heinzel_test' );
			$test = self::test_connection();
		}
		$fixed  = defined( 'HEINZEL_SOCKET' ) && '' !== HEINZEL_SOCKET;
		$counts = Heinzel_History::counts();
		echo '<div class="wrap"><h1>' . esc_html__( 'heinzel', 'heinzel' ) . '</h1>';
		settings_errors( 'heinzel_socket' );
		if ( null !== $test ) {
			printf(
				'<div class="notice notice-%s" id="heinzel-test-result"><p>%s</p></div>',
				$test['ok'] ? 'success' : 'error',
				esc_html( $test['text'] )
			);
		}
		echo '<form method="post" action="options.php">';
		settings_fields( 'heinzel' );
		echo '<table class="form-table" role="presentation"><tr><th scope="row"><label for="heinzel_socket">' . esc_html__( 'Socket', 'heinzel' ) . '</label></th><td>';
		printf(
			'<input name="heinzel_socket" id="heinzel_socket" type="text" class="regular-text code" value="%s" placeholder="/run/heinzel/heinzel.sock" aria-describedby="heinzel-socket-help"%s />',
			esc_attr( $fixed ? heinzel_socket_path() : (string) get_option( 'heinzel_socket', '' ) ),
			disabled( $fixed, true, false )
		);
		echo '<p class="description" id="heinzel-socket-help">';
		if ( $fixed ) {
			esc_html_e( 'Set in wp-config.php (HEINZEL_SOCKET).', 'heinzel' );
		} else {
			esc_html_e( 'heinzeld\'s Unix socket; empty means /run/heinzel/heinzel.sock. The web server\'s user must be in the heinzel group.', 'heinzel' );
		}
		echo '</p></td></tr></table>';
		if ( ! $fixed ) {
			submit_button();
		}
		echo '</form>';

		echo '<form method="post">';
		wp_nonce_field( 'heinzel_test' );
		echo '<p><button type="submit" name="heinzel_test" value="1" class="button">' . esc_html__( 'Test connection', 'heinzel' ) . '</button></p></form>';

		echo '<h2>' . esc_html__( 'Train heinzel with the blog\'s history', 'heinzel' ) . '</h2>';
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- counts to show after the redirect.
		if ( isset( $_GET['learned_ham'] ) ) {
			printf(
				'<div class="notice notice-%s" id="heinzel-train-result"><p>%s</p></div>',
				isset( $_GET['learn_error'] ) ? 'error' : 'success',
				esc_html(
					sprintf(
						/* translators: 1: comments learned as ham, 2: as spam */
						__( 'heinzel learned %1$d approved comments as ham and %2$d as spam.', 'heinzel' ),
						absint( $_GET['learned_ham'] ),
						isset( $_GET['learned_spam'] ) ? absint( $_GET['learned_spam'] ) : 0
					) . ( isset( $_GET['learn_error'] ) ? ' ' . __( 'Then heinzel stopped taking them; see its log.', 'heinzel' ) : '' )
				)
			);
		}
		// phpcs:enable
		if ( heinzel_client()->trusted() ) {
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
			wp_nonce_field( 'heinzel_train' );
			echo '<input type="hidden" name="action" value="heinzel_train" />';
			echo '<p>' . esc_html__( 'heinzel\'s classifier learns from the comments this blog approved (ham) and its spam folder (spam).', 'heinzel' ) . '</p>';
			printf(
				'<p><button type="submit" class="button button-primary" id="heinzel-train">%s</button></p></form>',
				esc_html(
					sprintf(
						/* translators: 1: approved comments, 2: spam comments */
						__( 'Train heinzel now (%1$d approved, %2$d spam)', 'heinzel' ),
						$counts['ham'],
						$counts['spam']
					)
				)
			);
			echo '<p>' . esc_html__( 'Without the key, or on another machine: download them and feed them to heinzel on the server:', 'heinzel' ) . '</p>';
		} else {
			echo '<p>' . esc_html__( 'heinzel\'s classifier learns from the comments this blog approved (ham) and its spam folder (spam). Download both and feed them to heinzel on the server:', 'heinzel' ) . '</p>';
		}
		echo '<pre>heinzelctl learn --ham heinzel-ham.jsonl' . "\n" . 'heinzelctl learn --spam heinzel-spam.jsonl</pre><p>';
		foreach ( array( 'ham', 'spam' ) as $kind ) {
			$url = wp_nonce_url( admin_url( 'admin-post.php?action=heinzel_history&kind=' . $kind ), 'heinzel_history' );
			printf(
				'<a class="button" href="%s" id="heinzel-history-%s">%s</a> ',
				esc_url( $url ),
				esc_attr( $kind ),
				esc_html(
					'ham' === $kind ?
					/* translators: %d: number of comments */
					sprintf( _n( 'Approved comments (%d)', 'Approved comments (%d)', $counts['ham'], 'heinzel' ), $counts['ham'] ) :
					/* translators: %d: number of comments */
					sprintf( _n( 'Spam (%d)', 'Spam (%d)', $counts['spam'], 'heinzel' ), $counts['spam'] )
				)
			);
		}
		echo '</p><p>' . esc_html__( 'Or on the server, without a download:', 'heinzel' ) . '</p>';
		// --host: Debian's WordPress picks /etc/wordpress/config-HOST.php by it.
		printf(
			'<pre>php %1$s --host %3$s %2$s ham | heinzelctl learn --ham -' . "\n" . 'php %1$s --host %3$s %2$s spam | heinzelctl learn --spam -</pre>',
			esc_html( HEINZEL_PLUGIN_DIR . '/bin/heinzel-history.php' ),
			esc_html( untrailingslashit( ABSPATH ) ),
			esc_html( (string) wp_parse_url( home_url(), PHP_URL_HOST ) . ( wp_parse_url( home_url(), PHP_URL_PORT ) ? ':' . wp_parse_url( home_url(), PHP_URL_PORT ) : '' ) )
		);
		echo '</div>';
	}

	/**
	 * The pending count on the dashboard, for moderators.
	 */
	public static function dashboard() {
		if ( current_user_can( 'moderate_comments' ) ) {
			wp_add_dashboard_widget( 'heinzel_pending', __( 'heinzel', 'heinzel' ), array( __CLASS__, 'dashboard_widget' ) );
		}
	}

	/**
	 * "12 comments wait in heinzel", and how to review them.
	 */
	public static function dashboard_widget() {
		$d = heinzel_client()->depths();
		if ( null === $d ) {
			echo '<p>' . esc_html__( 'heinzel cannot be reached right now.', 'heinzel' ) . '</p>';
			return;
		}
		$n = isset( $d['pending'] ) ? (int) $d['pending'] : 0;
		/* translators: %d: number of comments */
		echo '<p id="heinzel-pending"><strong>' . esc_html( sprintf( _n( '%d comment waits in heinzel', '%d comments wait in heinzel', $n, 'heinzel' ), $n ) ) . '</strong></p>';
		echo '<p>' . esc_html__( 'Review them on the server with:', 'heinzel' ) . ' <code>heinzelctl review</code></p>';
	}
}
