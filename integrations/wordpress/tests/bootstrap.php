<?php
/**
 * The plugin's unit tests run without WordPress: the few WordPress
 * functions the tested code calls, as small stand-ins.
 *
 * @package heinzel
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'MINUTE_IN_SECONDS', 60 );
define( 'DAY_IN_SECONDS', 86400 );

/**
 * Stand-in for __().
 *
 * @param string $text   Text.
 * @param string $domain Text domain.
 * @return string
 */
function __( $text, $domain = 'default' ) {
	return $text;
}

/**
 * Stand-in for _n().
 *
 * @param string $single Singular.
 * @param string $plural Plural.
 * @param int    $n      Number.
 * @param string $domain Text domain.
 * @return string
 */
function _n( $single, $plural, $n, $domain = 'default' ) {
	return 1 === $n ? $single : $plural;
}

/**
 * Stand-in for is_email().
 *
 * @param string $email Address.
 * @return string|false
 */
function is_email( $email ) {
	return false !== filter_var( $email, FILTER_VALIDATE_EMAIL ) ? $email : false;
}

/**
 * Stand-in for wp_json_encode().
 *
 * @param mixed $data  Data.
 * @param int   $flags Flags.
 * @return string
 */
function wp_json_encode( $data, $flags = 0 ) {
	return json_encode( $data, $flags );
}

require_once __DIR__ . '/../heinzel/includes/class-heinzel-client.php';
require_once __DIR__ . '/../heinzel/includes/class-heinzel-messages.php';
require_once __DIR__ . '/../heinzel/includes/class-heinzel-form.php';
require_once __DIR__ . '/../heinzel/includes/class-heinzel-submit.php';
require_once __DIR__ . '/../heinzel/includes/class-heinzel-sync.php';
require_once __DIR__ . '/../heinzel/includes/class-heinzel-history.php';
