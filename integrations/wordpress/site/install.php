<?php
/*
 * Installs the private WordPress of scripts/wordpress without the wizard:
 * php install.php WWW_DIR URL ADMIN_PASSWORD
 * German (de_DE), one post with comments open, the heinzel plugin active.
 * Run once, on an empty database.
 */
if ( PHP_SAPI !== 'cli' || $argc !== 4 ) {
	fwrite( STDERR, "usage: php install.php WWW_DIR URL ADMIN_PASSWORD\n" );
	exit( 2 );
}
list( , $www, $url, $password ) = $argv;
$parts                  = parse_url( $url );
$_SERVER['HTTP_HOST']   = $parts['host'] . ( isset( $parts['port'] ) ? ':' . $parts['port'] : '' );
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = $parts['host'];
$_SERVER['SERVER_PORT'] = isset( $parts['port'] ) ? $parts['port'] : 80;

define( 'WP_INSTALLING', true );
require $www . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( is_blog_installed() ) {
	echo "already installed\n";
	exit( 0 );
}
$result = wp_install( 'Heinzels Blog', 'admin', 'admin@example.org', false, '', wp_slash( $password ), 'de_DE' );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, $result->get_error_message() . "\n" );
	exit( 1 );
}
update_option( 'permalink_structure', '/%postname%/' );
update_option( 'template', 'twentytwentythree' );
update_option( 'stylesheet', 'twentytwentythree' );
update_option( 'comment_registration', 0 );
update_option( 'require_name_email', 1 );
update_option( 'thread_comments', 1 );
update_option( 'comments_notify', 0 );
update_option( 'moderation_notify', 0 );
update_option( 'timezone_string', 'Europe/Berlin' );

wp_set_current_user( 1 );
$post = wp_insert_post(
	array(
		'post_title'     => 'Die Heinzelmännchen von Köln',
		'post_name'      => 'heinzelmaennchen',
		'post_content'   => "<!-- wp:paragraph -->\n<p>Wie war zu Köln es doch vordem mit Heinzelmännchen so bequem! Denn war man faul, man legte sich hin auf die Bank und pflegte sich.</p>\n<!-- /wp:paragraph -->",
		'post_status'    => 'publish',
		'comment_status' => 'open',
		'post_author'    => 1,
	),
	true
);
if ( is_wp_error( $post ) ) {
	fwrite( STDERR, $post->get_error_message() . "\n" );
	exit( 1 );
}
$active = activate_plugin( 'heinzel/heinzel.php' );
if ( is_wp_error( $active ) ) {
	fwrite( STDERR, 'heinzel: ' . $active->get_error_message() . "\n" );
	exit( 1 );
}
flush_rewrite_rules();
echo "installed; post $post\n";
