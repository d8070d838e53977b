<?php
/**
 * Deleting the plugin: its settings and bookkeeping go; the comments it
 * published stay, as the WordPress comments they are.
 *
 * @package heinzel
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

global $wpdb;
delete_option( 'heinzel_socket' );
delete_option( 'heinzel_recent_posts' );
// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- the plugin's own options, by prefix.
$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'heinzel\\_parent\\_%' OR option_name LIKE '\\_transient\\_heinzel\\_%' OR option_name LIKE '\\_transient\\_timeout\\_heinzel\\_%'" );
wp_clear_scheduled_hook( 'heinzel_sync' );
