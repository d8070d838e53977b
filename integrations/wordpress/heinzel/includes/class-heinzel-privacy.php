<?php
/**
 * WordPress's privacy tools cover heinzel too.  "Tools → Export Personal
 * Data" and "Erase Personal Data" ask heinzeld for everything it holds for
 * the address (POST /v1/privacy/export and /v1/privacy/erase, with the
 * frontend key; docs/privacy.md): comments in every queue, notifications,
 * the known-author entry, the keys named by a hash of the address.  An
 * erase takes the reader's published comments out of WordPress at once.
 * The privacy policy guide gets heinzel's paragraph with the keep times
 * heinzeld is configured with (GET /v1/privacy/policy).
 *
 * The texts come in the site's language from the table below, like the
 * paragraph from heinzeld: German or English.
 *
 * @package heinzel
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The personal data exporter, the eraser and the policy paragraph.
 */
class Heinzel_Privacy {

	/**
	 * Seconds the policy paragraph is kept before heinzeld is asked again.
	 */
	const POLICY_TTL = DAY_IN_SECONDS;

	/**
	 * The texts, German and English.
	 *
	 * @var array
	 */
	private static $texts = array(
		'de' => array(
			'name'          => 'Kommentare in heinzel',
			'comments'      => 'Kommentare in heinzel',
			'comments_desc' => 'Kommentare, die der Spamfilter heinzel zu dieser E-Mail-Adresse gespeichert hat, in jeder Warteschlange.',
			'notes'         => 'Benachrichtigungen in heinzel',
			'notes_desc'    => 'Noch nicht zugestellte Benachrichtigungen mit dieser E-Mail-Adresse.',
			'other'         => 'Weitere Daten in heinzel',
			'other_desc'    => 'Prüfsummen (Hashes) der E-Mail-Adresse, der IP-Adresse oder der Texte, die heinzel für die Spam- und Flutabwehr hält.',
			'known_author'  => 'Bekannte Autorin oder bekannter Autor (ein Kommentar wurde freigegeben)',
			'expires'       => 'läuft ab in Sekunden',
			'no_key'        => 'heinzel: Der Schlüssel für heinzel fehlt (HEINZEL_KEY in wp-config.php); auf dem Server hilft heinzelctl privacy export bzw. erase.',
			'down'          => 'heinzel ist nicht erreichbar; bitte später erneut versuchen.',
			'failed'        => 'heinzel hat die Anfrage abgelehnt (HTTP %d).',
			'tutorial'      => 'Der Spamfilter heinzel prüft die Kommentare auf diesem Server. Der Vorschlag nennt die Speicherfristen, die heinzel eingestellt hat.',
			'suggested'     => 'Vorschlag:',
			'fields'        => array(
				'id'           => 'Kommentar-ID',
				'post'         => 'Beitrag',
				'parent'       => 'Antwort auf',
				'author'       => 'Name',
				'email'        => 'E-Mail-Adresse',
				'url'          => 'Website',
				'body'         => 'Kommentar',
				'status'       => 'Status',
				'created_at'   => 'Geschrieben (ms seit 1970)',
				'ip'           => 'IP-Adresse',
				'user_agent'   => 'User-Agent',
				'referrer'     => 'Herkunftsseite',
				'lang'         => 'Sprache',
				'kind'         => 'Art',
				'to'           => 'An',
				'comment'      => 'Zum Kommentar',
				'moderated_at' => 'Moderiert (ms seit 1970)',
			),
		),
		'en' => array(
			'name'          => 'Comments in heinzel',
			'comments'      => 'Comments in heinzel',
			'comments_desc' => 'Comments the spam filter heinzel holds for this e-mail address, in every queue.',
			'notes'         => 'Notifications in heinzel',
			'notes_desc'    => 'Notifications not delivered yet that hold this e-mail address.',
			'other'         => 'Other data in heinzel',
			'other_desc'    => 'Hashes of the e-mail address, the IP address or the texts that heinzel keeps for spam and flood control.',
			'known_author'  => 'Known author (a comment was approved)',
			'expires'       => 'expires in seconds',
			'no_key'        => 'heinzel: the key for heinzel is missing (HEINZEL_KEY in wp-config.php); on the server, heinzelctl privacy export or erase does it.',
			'down'          => 'heinzel cannot be reached; please try again later.',
			'failed'        => 'heinzel refused the request (HTTP %d).',
			'tutorial'      => 'The spam filter heinzel checks the comments on this server. The suggestion names the keep times heinzel is configured with.',
			'suggested'     => 'Suggested text:',
			'fields'        => array(
				'id'           => 'Comment ID',
				'post'         => 'Post',
				'parent'       => 'Reply to',
				'author'       => 'Name',
				'email'        => 'E-mail address',
				'url'          => 'Website',
				'body'         => 'Comment',
				'status'       => 'Status',
				'created_at'   => 'Written (ms since 1970)',
				'ip'           => 'IP address',
				'user_agent'   => 'User agent',
				'referrer'     => 'Referring page',
				'lang'         => 'Language',
				'kind'         => 'Kind',
				'to'           => 'To',
				'comment'      => 'About comment',
				'moderated_at' => 'Moderated (ms since 1970)',
			),
		),
	);

	/**
	 * Hooks.
	 */
	public static function register() {
		add_filter( 'wp_privacy_personal_data_exporters', array( __CLASS__, 'exporters' ) );
		add_filter( 'wp_privacy_personal_data_erasers', array( __CLASS__, 'erasers' ) );
		add_action( 'admin_init', array( __CLASS__, 'policy' ) );
	}

	/**
	 * One text in the site's language.
	 *
	 * @param string $name The text's name.
	 * @param string $lang Language, "de" or "en"; the site's when empty.
	 * @return string|array
	 */
	public static function text( $name, $lang = '' ) {
		if ( '' === $lang ) {
			$lang = heinzel_lang();
		}
		$t = isset( self::$texts[ $lang ] ) ? self::$texts[ $lang ] : self::$texts['en'];
		return $t[ $name ];
	}

	/**
	 * Register the exporter.
	 *
	 * @param array $exporters WordPress's exporters.
	 * @return array
	 */
	public static function exporters( $exporters ) {
		$exporters['heinzel'] = array(
			'exporter_friendly_name' => self::text( 'name' ),
			'callback'               => array( __CLASS__, 'export' ),
		);
		return $exporters;
	}

	/**
	 * Register the eraser.
	 *
	 * @param array $erasers WordPress's erasers.
	 * @return array
	 */
	public static function erasers( $erasers ) {
		$erasers['heinzel'] = array(
			'eraser_friendly_name' => self::text( 'name' ),
			'callback'             => array( __CLASS__, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * Why heinzeld did not answer, for the admin.
	 *
	 * @param array $r As Heinzel_Client::request().
	 * @return string
	 */
	public static function failure( array $r ) {
		if ( 401 === $r['status'] ) {
			return self::text( 'no_key' );
		}
		if ( 0 === $r['status'] || 503 === $r['status'] ) {
			return self::text( 'down' );
		}
		return sprintf( self::text( 'failed' ), $r['status'] );
	}

	/**
	 * The exporter: everything heinzel holds for the address, in one page.
	 *
	 * @param string $email The address.
	 * @param int    $page  The page (heinzel answers all at once).
	 * @return array|WP_Error { data, done }
	 */
	public static function export( $email, $page = 1 ) {
		$r = heinzel_client()->request( 'POST', '/v1/privacy/export', array( 'email' => (string) $email ), true );
		if ( 200 !== $r['status'] ) {
			return new WP_Error( 'heinzel', self::failure( $r ) );
		}
		return array(
			'data' => self::export_items( $r['data'], heinzel_lang() ),
			'done' => true,
		);
	}

	/**
	 * heinzel's export as WordPress's export items.
	 *
	 * @param array  $x    The JSON of POST /v1/privacy/export.
	 * @param string $lang Language, "de" or "en".
	 * @return array Items { group_id, group_label, group_description, item_id, data: [{ name, value }] }.
	 */
	public static function export_items( array $x, $lang ) {
		$labels = self::text( 'fields', $lang );
		$items  = array();
		$groups = array(
			'comments'      => array( 'heinzel-comments', 'comments', 'comments_desc' ),
			'notifications' => array( 'heinzel-notifications', 'notes', 'notes_desc' ),
		);
		foreach ( $groups as $part => $g ) {
			$list = isset( $x[ $part ] ) && is_array( $x[ $part ] ) ? $x[ $part ] : array();
			foreach ( $list as $fields ) {
				if ( ! is_array( $fields ) || ! isset( $fields['id'] ) ) {
					continue;
				}
				$data = array();
				foreach ( $fields as $name => $value ) {
					if ( is_array( $value ) ) {
						continue;
					}
					$data[] = array(
						'name'  => isset( $labels[ $name ] ) ? $labels[ $name ] : (string) $name,
						'value' => (string) $value,
					);
				}
				$items[] = array(
					'group_id'          => $g[0],
					'group_label'       => self::text( $g[1], $lang ),
					'group_description' => self::text( $g[2], $lang ),
					'item_id'           => $g[0] . '-' . $fields['id'],
					'data'              => $data,
				);
			}
		}
		$other = array();
		if ( ! empty( $x['known_author'] ) && is_array( $x['known_author'] ) ) {
			$other[] = array(
				'name'  => self::text( 'known_author', $lang ),
				'value' => implode( ', ', array_map( 'strval', $x['known_author'] ) ),
			);
		}
		$keys = isset( $x['hashed_keys'] ) && is_array( $x['hashed_keys'] ) ? $x['hashed_keys'] : array();
		foreach ( $keys as $k ) {
			if ( ! is_array( $k ) || ! isset( $k['key'], $k['kind'] ) ) {
				continue;
			}
			$other[] = array(
				'name'  => (string) $k['kind'],
				'value' => $k['key'] . ' (' . self::text( 'expires', $lang ) . ': ' . ( isset( $k['expires_in_seconds'] ) ? (int) $k['expires_in_seconds'] : -1 ) . ')',
			);
		}
		if ( $other ) {
			$items[] = array(
				'group_id'          => 'heinzel-other',
				'group_label'       => self::text( 'other', $lang ),
				'group_description' => self::text( 'other_desc', $lang ),
				'item_id'           => 'heinzel-other',
				'data'              => $other,
			);
		}
		return $items;
	}

	/**
	 * The eraser: everything heinzel holds for the address goes, and the
	 * reader's published comments leave WordPress now rather than on the
	 * next view of their posts.
	 *
	 * @param string $email The address.
	 * @param int    $page  The page (heinzel erases all at once).
	 * @return array { items_removed, items_retained, messages, done }
	 */
	public static function erase( $email, $page = 1 ) {
		$client = heinzel_client();
		$before = $client->request( 'POST', '/v1/privacy/export', array( 'email' => (string) $email ), true );
		$r      = $client->request( 'POST', '/v1/privacy/erase', array( 'email' => (string) $email ), true );
		$result = self::erase_result( $r );
		if ( $result['items_removed'] && 200 === $before['status'] ) {
			foreach ( self::published_posts( $before['data'] ) as $post_id ) {
				Heinzel_Sync::sync_post( $post_id, true );
			}
		}
		return $result;
	}

	/**
	 * WordPress's eraser answer from heinzel's.
	 *
	 * @param array $r As Heinzel_Client::request() for POST /v1/privacy/erase.
	 * @return array { items_removed, items_retained, messages, done }
	 */
	public static function erase_result( array $r ) {
		if ( 200 !== $r['status'] ) {
			return array(
				'items_removed'  => false,
				'items_retained' => true,
				'messages'       => array( self::failure( $r ) ),
				'done'           => true,
			);
		}
		$n = 0;
		foreach ( array( 'comments', 'notifications', 'known_author', 'hashed_keys' ) as $k ) {
			$n += isset( $r['data'][ $k ] ) ? (int) $r['data'][ $k ] : 0;
		}
		return array(
			'items_removed'  => $n > 0,
			'items_retained' => false,
			'messages'       => array(),
			'done'           => true,
		);
	}

	/**
	 * The WordPress posts an export's approved comments are on.
	 *
	 * @param array $x The JSON of POST /v1/privacy/export.
	 * @return int[]
	 */
	public static function published_posts( array $x ) {
		$posts = array();
		$list  = isset( $x['comments'] ) && is_array( $x['comments'] ) ? $x['comments'] : array();
		foreach ( $list as $c ) {
			if ( is_array( $c ) && isset( $c['status'], $c['post'] ) && 'approved' === $c['status'] && ctype_digit( (string) $c['post'] ) ) {
				$posts[ (int) $c['post'] ] = true;
			}
		}
		return array_keys( $posts );
	}

	/**
	 * heinzel's paragraph in WordPress's privacy policy guide, with the
	 * keep times heinzeld has; asked once a day.
	 */
	public static function policy() {
		if ( ! function_exists( 'wp_add_privacy_policy_content' ) ) {
			return;
		}
		$lang = heinzel_lang();
		$key  = 'heinzel_privacy_policy_' . $lang;
		$text = get_transient( $key );
		if ( false === $text ) {
			$r = heinzel_client()->request( 'GET', '/v1/privacy/policy?lang=' . ( 'de' === $lang ? 'de' : 'en' ) );
			if ( 200 !== $r['status'] || empty( $r['data']['text'] ) ) {
				return;
			}
			$text = (string) $r['data']['text'];
			set_transient( $key, $text, self::POLICY_TTL );
		}
		wp_add_privacy_policy_content( 'heinzel', self::policy_html( $text, $lang ) );
	}

	/**
	 * The guide's entry: a hint for the admin and the suggested paragraph.
	 *
	 * @param string $text The paragraph from heinzeld.
	 * @param string $lang Language, "de" or "en".
	 * @return string HTML.
	 */
	public static function policy_html( $text, $lang ) {
		return '<p class="privacy-policy-tutorial">' . esc_html( self::text( 'tutorial', $lang ) ) . '</p>'
			. '<p><strong class="privacy-policy-tutorial">' . esc_html( self::text( 'suggested', $lang ) ) . ' </strong>'
			. esc_html( $text ) . '</p>';
	}
}

Heinzel_Privacy::register();
