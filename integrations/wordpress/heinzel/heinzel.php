<?php
/**
 * Plugin Name:       heinzel
 * Plugin URI:        https://github.com/heinzel/heinzel
 * Description:       Makes heinzeld the blog's comment gate: a math question and a honeypot in the comment form, spam rules and moderation in heinzel, approved comments published back into WordPress.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * License:           GPL-2.0-or-later
 * Text Domain:       heinzel
 * Domain Path:       /languages
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'HEINZEL_PLUGIN_VERSION', '0.1.0' );
define( 'HEINZEL_PLUGIN_FILE', __FILE__ );
define( 'HEINZEL_PLUGIN_DIR', __DIR__ );

require_once __DIR__ . '/includes/class-heinzel-client.php';
require_once __DIR__ . '/includes/class-heinzel-messages.php';
require_once __DIR__ . '/includes/class-heinzel-form.php';
require_once __DIR__ . '/includes/class-heinzel-submit.php';
require_once __DIR__ . '/includes/class-heinzel-sync.php';
require_once __DIR__ . '/includes/class-heinzel-admin.php';
require_once __DIR__ . '/includes/class-heinzel-history.php';
require_once __DIR__ . '/includes/class-heinzel-privacy.php';

/**
 * The heinzeld socket: HEINZEL_SOCKET from wp-config.php wins over the
 * settings page, as a site set up from a file expects.
 *
 * @return string
 */
function heinzel_socket_path() {
	if ( defined( 'HEINZEL_SOCKET' ) && '' !== HEINZEL_SOCKET ) {
		return (string) HEINZEL_SOCKET;
	}
	$path = get_option( 'heinzel_socket', '' );
	return '' !== $path ? (string) $path : '/run/heinzel/heinzel.sock';
}

/**
 * The key heinzel trusts this site with ([server] frontend_key_file):
 * HEINZEL_KEY, or the first line of the file HEINZEL_KEY_FILE, both from
 * wp-config.php.  Never from the database.  Empty when there is none.
 *
 * @return string
 */
function heinzel_key() {
	if ( defined( 'HEINZEL_KEY' ) && '' !== HEINZEL_KEY ) {
		return trim( (string) HEINZEL_KEY );
	}
	if ( defined( 'HEINZEL_KEY_FILE' ) && '' !== HEINZEL_KEY_FILE && is_readable( HEINZEL_KEY_FILE ) ) {
		$text = (string) file_get_contents( HEINZEL_KEY_FILE ); // phpcs:ignore WordPress.WP.AlternativeFunctions -- a local file.
		$line = strtok( $text, "\r\n" );
		return false === $line ? '' : trim( $line );
	}
	return '';
}

/**
 * The client every part of the plugin talks to heinzeld through.
 *
 * @return Heinzel_Client
 */
function heinzel_client() {
	static $client = null;
	if ( null === $client ) {
		$client = new Heinzel_Client( heinzel_socket_path(), heinzel_key() );
	}
	return $client;
}

/**
 * The site's language as heinzel takes it: "de" for de_DE, "en" for en_US.
 *
 * @return string
 */
function heinzel_lang() {
	return strtolower( substr( determine_locale(), 0, 2 ) );
}

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'heinzel', false, dirname( plugin_basename( HEINZEL_PLUGIN_FILE ) ) . '/languages' );
	}
);

Heinzel_Form::register();
Heinzel_Submit::register();
Heinzel_Sync::register();
if ( is_admin() ) {
	Heinzel_Admin::register();
	Heinzel_History::register();
}
register_deactivation_hook( __FILE__, array( 'Heinzel_Sync', 'deactivate' ) );
