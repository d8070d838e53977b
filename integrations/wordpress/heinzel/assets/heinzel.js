/*
 * heinzel: a fresh math question and request id for every view of the
 * page, so that a page served from a cache does not hand every reader the
 * same, already answered, question.  Without JavaScript the question
 * rendered into the page is used.
 */
( function () {
	'use strict';
	var box = document.querySelector( '.comment-form-heinzel-question' );
	if ( ! box || box.getAttribute( 'data-heinzel-refresh' ) !== '1' ||
		! window.fetch || ! window.heinzelForm ) {
		return;
	}
	window.fetch( window.heinzelForm.url, { cache: 'no-store', credentials: 'same-origin' } )
		.then( function ( r ) {
			return r.ok ? r.json() : null;
		} )
		.then( function ( c ) {
			if ( ! c || ! c.id ) {
				return;
			}
			// A real minus sign, as the server renders it.
			document.getElementById( 'heinzel-question' ).textContent = c.question.replace( ' - ', ' \u2212 ' );
			document.getElementById( 'heinzel-question-text' ).textContent = c.question_text;
			document.getElementById( 'heinzel-captcha' ).value = c.id;
			document.getElementById( 'heinzel-question-shown' ).value = c.question + '\n' + c.question_text;
			document.getElementById( 'heinzel-request' ).value = c.request;
			box.setAttribute( 'data-heinzel-refresh', 'done' );
		} )
		.catch( function () {} );
}() );
