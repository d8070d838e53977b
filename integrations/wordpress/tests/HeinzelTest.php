<?php
/**
 * Unit tests of the plugin's own logic: what heinzel's answers mean, the
 * sync's plan, request ids, the history lines, the queue depths.
 *
 * @package heinzel
 */

use PHPUnit\Framework\TestCase;

/**
 * The plugin's pure functions.
 */
class HeinzelTest extends TestCase {

	/**
	 * An answer as Heinzel_Client::request() gives it.
	 *
	 * @param int   $status HTTP status, 0 for no connection.
	 * @param array $data   The JSON body.
	 * @return array
	 */
	private function answer( $status, array $data = array() ) {
		return array(
			'status'      => $status,
			'data'        => $data,
			'retry_after' => 0,
			'error'       => '',
		);
	}

	/**
	 * Every answer of POST /v1/comments has its outcome.
	 */
	public function test_outcomes() {
		$cases = array(
			array( 202, array( 'status' => 'pending' ), 'pending' ),
			array( 202, array( 'status' => 'approved' ), 'approved' ),
			array( 0, array(), 'unavailable' ),
			array( 503, array( 'error' => 'unavailable' ), 'unavailable' ),
			array( 403, array( 'error' => 'captcha' ), 'captcha' ),
			array( 403, array( 'error' => 'spam' ), 'spam' ),
			array( 403, array( 'error' => 'forbidden' ), 'error' ),
			array( 409, array( 'error' => 'duplicate' ), 'duplicate' ),
			array( 413, array( 'error' => 'too_large' ), 'too_large' ),
			array( 422, array( 'error' => 'invalid' ), 'invalid' ),
			array( 429, array( 'error' => 'rate_limited' ), 'rate_limited' ),
			array( 400, array( 'error' => 'bad_request' ), 'error' ),
			array( 500, array(), 'error' ),
		);
		foreach ( $cases as $c ) {
			$this->assertSame( $c[2], Heinzel_Messages::outcome( $this->answer( $c[0], $c[1] ) ), "status {$c[0]}" );
		}
	}

	/**
	 * The reader's text stays in the form unless heinzel has the comment.
	 */
	public function test_keeps_text() {
		foreach ( array( 'captcha', 'duplicate', 'invalid', 'too_large', 'rate_limited', 'unavailable', 'error' ) as $o ) {
			$this->assertTrue( Heinzel_Messages::keeps_text( $o ), $o );
		}
		foreach ( array( 'pending', 'approved', 'spam' ) as $o ) {
			$this->assertFalse( Heinzel_Messages::keeps_text( $o ), $o );
		}
	}

	/**
	 * Each outcome has a sentence of its own; a wait is in it.
	 */
	public function test_texts() {
		$seen = array();
		foreach ( array( 'pending', 'approved', 'captcha', 'spam', 'duplicate', 'too_large', 'unavailable', 'error' ) as $o ) {
			$t = Heinzel_Messages::text( $o );
			$this->assertNotSame( '', $t );
			$this->assertArrayNotHasKey( $t, $seen, $o );
			$seen[ $t ] = true;
		}
		$this->assertStringContainsString( '30 seconds', Heinzel_Messages::text( 'rate_limited', '', 30 ) );
		$this->assertStringContainsString( 'email', Heinzel_Messages::text( 'invalid', 'email' ) );
	}

	/**
	 * Comments missing from WordPress are inserted, oldest first, once;
	 * those heinzel no longer publishes are removed.
	 */
	public function test_plan() {
		$a      = array(
			'id'   => '0000000000000000000a',
			'body' => 'a',
		);
		$b      = array(
			'id'     => '0000000000000000000b',
			'parent' => '0000000000000000000a',
		);
		$c      = array( 'id' => '0000000000000000000c' );
		$remote = array( $a, $b, $c, $b, array( 'id' => '../etc' ), 'junk' );
		$plan   = Heinzel_Sync::plan(
			$remote,
			array(
				'0000000000000000000a' => 10,
				'0000000000000000000d' => 13,
			)
		);
		$this->assertSame( array( $b, $c ), $plan['insert'] );
		$this->assertSame( array( 13 ), $plan['remove'] );

		// A second run over the result: nothing to do.
		$plan = Heinzel_Sync::plan(
			array( $a, $b, $c ),
			array(
				'0000000000000000000a' => 10,
				'0000000000000000000b' => 11,
				'0000000000000000000c' => 12,
			)
		);
		$this->assertSame( array(), $plan['insert'] );
		$this->assertSame( array(), $plan['remove'] );
	}

	/**
	 * An empty list (every comment rejected) removes them all.
	 */
	public function test_plan_empty_removes_all() {
		$plan = Heinzel_Sync::plan( array(), array( '0000000000000000000a' => 10 ) );
		$this->assertSame( array( 10 ), $plan['remove'] );
	}

	/**
	 * Request ids: the form's, and heinzel's mixed with the comment.
	 */
	public function test_request_ids() {
		$form = Heinzel_Form::new_request_id();
		$this->assertTrue( Heinzel_Form::request_id_valid( $form ) );
		$this->assertNotSame( $form, Heinzel_Form::new_request_id() );
		$this->assertFalse( Heinzel_Form::request_id_valid( 'x' ) );
		$this->assertFalse( Heinzel_Form::request_id_valid( array( $form ) ) );
		$this->assertFalse( Heinzel_Form::request_id_valid( strtoupper( $form ) ) );

		$one = Heinzel_Submit::request_id( $form, 'anna@example.org', 'Hallo' );
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{32}$/', $one );
		$this->assertSame( $one, Heinzel_Submit::request_id( $form, 'Anna@Example.org', 'Hallo' ), 'a retry' );
		$this->assertNotSame( $one, Heinzel_Submit::request_id( $form, 'bernd@example.org', 'Hallo' ), 'another reader of a cached page' );
		$this->assertNotSame( $one, Heinzel_Submit::request_id( $form, 'anna@example.org', 'Hallo!' ), 'another text' );
	}

	/**
	 * Request headers reach heinzel as text it accepts: valid UTF-8, no
	 * control characters, cut between characters.
	 */
	public function test_header_text() {
		$s = array(
			'A' => "Mozilla/5.0\x01 (X11)\x7f",
			'B' => "M\xff\xfe",
			'C' => str_repeat( 'a', 9 ) . "\u{00e4}\u{00e4}",
			'D' => "Firefox\u{0085}/1",
		);
		$this->assertSame( 'Mozilla/5.0 (X11)', Heinzel_Submit::header_text( $s, 'A', 100 ) );
		$this->assertSame( '', Heinzel_Submit::header_text( $s, 'B', 100 ) );
		$this->assertSame( str_repeat( 'a', 9 ), Heinzel_Submit::header_text( $s, 'C', 10 ) );
		$this->assertSame( str_repeat( 'a', 9 ) . "\u{00e4}", Heinzel_Submit::header_text( $s, 'C', 11 ) );
		$this->assertSame( str_repeat( 'a', 9 ) . "\u{00e4}", Heinzel_Submit::header_text( $s, 'C', 12 ) );
		$this->assertSame( 'Firefox/1', Heinzel_Submit::header_text( $s, 'D', 100 ) );
		$this->assertSame( '', Heinzel_Submit::header_text( $s, 'E', 100 ) );
	}

	/**
	 * heinzel ids are 20 hex digits.
	 */
	public function test_id_valid() {
		$this->assertTrue( Heinzel_Sync::id_valid( '0193a1b2c3d4e5f60718' ) );
		$this->assertFalse( Heinzel_Sync::id_valid( '0193a1b2c3d4e5f6071' ) );
		$this->assertFalse( Heinzel_Sync::id_valid( '0193a1b2c3d4e5f6071g' ) );
		$this->assertFalse( Heinzel_Sync::id_valid( 42 ) );
	}

	/**
	 * A history line has what heinzelctl learn takes, and only that.
	 */
	public function test_history_line() {
		$c = (object) array(
			'comment_post_ID'      => 7,
			'comment_author'       => 'Anna',
			'comment_author_email' => 'anna@example.org',
			'comment_author_url'   => 'https://anna.example.org/',
			'comment_author_IP'    => '192.0.2.1',
			'comment_content'      => " Schön, \"danke\"! \n",
		);
		$this->assertSame(
			array(
				'post'   => '7',
				'author' => 'Anna',
				'body'   => 'Schön, "danke"!',
				'email'  => 'anna@example.org',
				'url'    => 'https://anna.example.org/',
				'ip'     => '192.0.2.1',
			),
			json_decode( Heinzel_History::line( $c ), true )
		);
		$this->assertStringContainsString( 'Schön', Heinzel_History::line( $c ), 'UTF-8 as it is' );

		$c->comment_author_email = 'not an address';
		$c->comment_author_url   = 'javascript:alert(1)';
		$c->comment_author_IP    = '';
		$c->comment_author       = '';
		$line                    = json_decode( Heinzel_History::line( $c ), true );
		$this->assertSame( array( 'post', 'author', 'body' ), array_keys( $line ) );
		$this->assertSame( '-', $line['author'] );

		$c->comment_content = "  \n";
		$this->assertNull( Heinzel_History::line( $c ) );
	}

	/**
	 * The queue depths out of /metrics.
	 */
	public function test_parse_depths() {
		$text = "# HELP heinzel_queue_depth Comments per queue.\n" .
			"# TYPE heinzel_queue_depth gauge\n" .
			"heinzel_queue_depth{queue=\"pending\"} 12\n" .
			"heinzel_queue_depth{queue=\"approved\"} 340\n" .
			"heinzel_queue_depth{queue=\"spam\"} 7\n" .
			"heinzel_submissions_total{outcome=\"pending\"} 99\n";
		$this->assertSame(
			array(
				'pending'  => 12,
				'approved' => 340,
				'spam'     => 7,
			),
			Heinzel_Client::parse_depths( $text )
		);
		$this->assertSame( array(), Heinzel_Client::parse_depths( '' ) );
	}
}
