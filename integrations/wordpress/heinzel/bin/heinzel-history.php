<?php
/**
 * The blog's history for heinzel's classifier, from the command line,
 * without WP-CLI:
 *
 *   php heinzel-history.php [--host HOST] WORDPRESS_DIR ham|spam > FILE
 *   heinzelctl learn --ham FILE     (or --spam)
 *
 * or piped: php heinzel-history.php /usr/share/wordpress spam | heinzelctl learn --spam -
 *
 * WORDPRESS_DIR holds wp-load.php.  Debian's WordPress picks its
 * /etc/wordpress/config-HOST.php by the host name: give it with --host.
 *
 * @package heinzel
 */

if ( 'cli' !== PHP_SAPI ) {
	exit( 1 );
}
$heinzel_args = array_slice( $argv, 1 );
$heinzel_host = 'localhost';
if ( isset( $heinzel_args[0] ) && '--host' === $heinzel_args[0] && isset( $heinzel_args[1] ) ) {
	$heinzel_host = $heinzel_args[1];
	$heinzel_args = array_slice( $heinzel_args, 2 );
}
if ( 2 !== count( $heinzel_args ) || ! in_array( $heinzel_args[1], array( 'ham', 'spam' ), true ) ) {
	fwrite( STDERR, "usage: php heinzel-history.php [--host HOST] WORDPRESS_DIR ham|spam\n" );
	exit( 2 );
}
if ( ! is_file( $heinzel_args[0] . '/wp-load.php' ) ) {
	fwrite( STDERR, "heinzel-history.php: no wp-load.php in {$heinzel_args[0]}\n" );
	exit( 2 );
}
$_SERVER['HTTP_HOST']   = $heinzel_host;
$_SERVER['SERVER_NAME'] = $heinzel_host;
$_SERVER['REQUEST_URI'] = '/';
require $heinzel_args[0] . '/wp-load.php';
if ( ! class_exists( 'Heinzel_History' ) ) {
	require_once __DIR__ . '/../includes/class-heinzel-history.php';
}
$heinzel_n = Heinzel_History::export( $heinzel_args[1], STDOUT );
fwrite( STDERR, "heinzel-history.php: $heinzel_n comments as {$heinzel_args[1]}\n" );
