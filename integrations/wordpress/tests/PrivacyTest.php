<?php
/**
 * Unit tests of the personal data exporter and eraser: heinzel's answers
 * as WordPress's export items and eraser results.
 *
 * @package heinzel
 */

use PHPUnit\Framework\TestCase;

if ( ! function_exists( 'add_filter' ) ) {
	/**
	 * Stand-in for add_filter().
	 *
	 * @param string   $hook     Hook.
	 * @param callable $callback Callback.
	 */
	function add_filter( $hook, $callback ) {
		$GLOBALS['heinzel_test_hooks'][ $hook ] = $callback;
	}
}
if ( ! function_exists( 'add_action' ) ) {
	/**
	 * Stand-in for add_action().
	 *
	 * @param string   $hook     Hook.
	 * @param callable $callback Callback.
	 */
	function add_action( $hook, $callback ) {
		$GLOBALS['heinzel_test_hooks'][ $hook ] = $callback;
	}
}
if ( ! function_exists( 'esc_html' ) ) {
	/**
	 * Stand-in for esc_html().
	 *
	 * @param string $text Text.
	 * @return string
	 */
	function esc_html( $text ) {
		return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
	}
}
if ( ! function_exists( 'heinzel_lang' ) ) {
	/**
	 * Stand-in for the plugin's heinzel_lang().
	 *
	 * @return string
	 */
	function heinzel_lang() {
		return 'de';
	}
}

require_once __DIR__ . '/../heinzel/includes/class-heinzel-privacy.php';

/**
 * Heinzel_Privacy's pure functions.
 */
class PrivacyTest extends TestCase {

	/**
	 * What POST /v1/privacy/export answers for a reader with two comments.
	 *
	 * @return array
	 */
	private function export() {
		return array(
			'comments'      => array(
				array(
					'id'         => '01a23ac3313f9c717550',
					'post'       => '12',
					'author'     => 'Rita Leserin',
					'email'      => 'rita@example.org',
					'body'       => 'Danke!',
					'status'     => 'approved',
					'ip'         => '203.0.113.7',
					'created_at' => '1796282200383',
				),
				array(
					'id'     => '01a23ac3313f9c717551',
					'post'   => '14',
					'email'  => 'rita@example.org',
					'body'   => 'Noch eine Frage',
					'status' => 'pending',
				),
			),
			'notifications' => array(
				array(
					'id'      => '7',
					'kind'    => 'received',
					'to'      => 'rita@example.org',
					'comment' => '01a23ac3313f9c717551',
				),
			),
			'known_author'  => array( 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' ),
			'hashed_keys'   => array(
				array(
					'key'                => '{heinzel}:flood:email:ead746cad02bce55',
					'kind'               => 'flood_counter_email',
					'value'              => '2',
					'expires_in_seconds' => 42,
				),
			),
		);
	}

	/**
	 * Registered with WordPress's privacy tools.
	 */
	public function test_registered() {
		$this->assertSame( array( 'Heinzel_Privacy', 'exporters' ), $GLOBALS['heinzel_test_hooks']['wp_privacy_personal_data_exporters'] );
		$this->assertSame( array( 'Heinzel_Privacy', 'erasers' ), $GLOBALS['heinzel_test_hooks']['wp_privacy_personal_data_erasers'] );
		$e = Heinzel_Privacy::exporters( array( 'wordpress-comments' => array() ) );
		$this->assertArrayHasKey( 'wordpress-comments', $e );
		$this->assertSame( 'Kommentare in heinzel', $e['heinzel']['exporter_friendly_name'] );
		$this->assertSame( array( 'Heinzel_Privacy', 'export' ), $e['heinzel']['callback'] );
		$e = Heinzel_Privacy::erasers( array() );
		$this->assertSame( array( 'Heinzel_Privacy', 'erase' ), $e['heinzel']['callback'] );
	}

	/**
	 * Every comment, notification and hashed record becomes an item.
	 */
	public function test_export_items() {
		$items = Heinzel_Privacy::export_items( $this->export(), 'en' );
		$ids   = array_column( $items, 'item_id' );
		$this->assertSame(
			array(
				'heinzel-comments-01a23ac3313f9c717550',
				'heinzel-comments-01a23ac3313f9c717551',
				'heinzel-notifications-7',
				'heinzel-other',
			),
			$ids
		);
		$first = array_column( $items[0]['data'], 'value', 'name' );
		$this->assertSame( 'rita@example.org', $first['E-mail address'] );
		$this->assertSame( '203.0.113.7', $first['IP address'] );
		$this->assertSame( 'Danke!', $first['Comment'] );
		$this->assertSame( 'Comments in heinzel', $items[0]['group_label'] );
		$other = array_column( $items[3]['data'], 'value', 'name' );
		$this->assertSame( 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', $other['Known author (a comment was approved)'] );
		$this->assertStringContainsString( 'flood:email:ead746cad02bce55', $other['flood_counter_email'] );
		// German labels; nothing held, no items.
		$de = Heinzel_Privacy::export_items( $this->export(), 'de' );
		$this->assertSame( 'E-Mail-Adresse', $de[0]['data'][3]['name'] );
		$this->assertSame(
			array(),
			Heinzel_Privacy::export_items(
				array(
					'comments'      => array(),
					'notifications' => array(),
					'known_author'  => array(),
					'hashed_keys'   => array(),
				),
				'de'
			)
		);
	}

	/**
	 * heinzel's counts, or why it did not erase.
	 */
	public function test_erase_result() {
		$ok = Heinzel_Privacy::erase_result(
			array(
				'status' => 200,
				'data'   => array(
					'comments'      => 2,
					'notifications' => 1,
					'known_author'  => 1,
					'hashed_keys'   => 3,
				),
			)
		);
		$this->assertTrue( $ok['items_removed'] );
		$this->assertFalse( $ok['items_retained'] );
		$this->assertTrue( $ok['done'] );
		$none = Heinzel_Privacy::erase_result(
			array(
				'status' => 200,
				'data'   => array(
					'comments'      => 0,
					'notifications' => 0,
					'known_author'  => 0,
					'hashed_keys'   => 0,
				),
			)
		);
		$this->assertFalse( $none['items_removed'] );
		foreach ( array( 0, 401, 503, 500 ) as $status ) {
			$bad = Heinzel_Privacy::erase_result(
				array(
					'status' => $status,
					'data'   => array(),
				)
			);
			$this->assertFalse( $bad['items_removed'] );
			$this->assertTrue( $bad['items_retained'] );
			$this->assertCount( 1, $bad['messages'] );
		}
		$this->assertStringContainsString( 'HEINZEL_KEY', Heinzel_Privacy::failure( array( 'status' => 401 ) ) );
	}

	/**
	 * The posts to sync after an erase: those with approved comments.
	 */
	public function test_published_posts() {
		$this->assertSame( array( 12 ), Heinzel_Privacy::published_posts( $this->export() ) );
		$this->assertSame( array(), Heinzel_Privacy::published_posts( array() ) );
	}

	/**
	 * The guide's entry escapes heinzel's paragraph.
	 */
	public function test_policy_html() {
		$html = Heinzel_Privacy::policy_html( 'IP-Adresse <b> löschen wir nach 7 Tagen.', 'de' );
		$this->assertStringContainsString( 'privacy-policy-tutorial', $html );
		$this->assertStringContainsString( 'Vorschlag:', $html );
		$this->assertStringContainsString( '&lt;b&gt; löschen wir nach 7 Tagen.', $html );
	}
}
