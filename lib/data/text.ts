/**
 * Text → tokens for the word-level tasks: a lower-casing word tokenizer and
 * the part of an e-mail that a spam classifier should read.
 */
import { show } from '../layers/options.js';

/**
 * Words: runs of Unicode letters and digits, optionally joined by inner
 * apostrophes ("don't" is one word), after lower-casing. Everything else
 * (punctuation, symbols, white space) separates words and is dropped — close
 * to Keras's TextVectorization default ('lower_and_strip_punctuation', then
 * split on white space) except that punctuation splits words instead of
 * joining their pieces ("e-mail" → "e", "mail").
 * @example tokenize("Don't miss: 100% FREE!") → ["don't", 'miss', '100', 'free']
 */
export function tokenize(text: string): string[] {
  if (typeof text !== 'string') throw new Error(`fathom.data.tokenize: expected a string, got ${show(text)}`);
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/**
 * The readable part of a raw RFC 822 message: its Subject (header line and
 * folded continuation lines, without "Subject:") and its body (everything after
 * the first blank line), joined by a newline. Every other header line is left
 * out: in the SpamAssassin corpus the routing headers (Received, From, list
 * headers) name the mailing lists the ham came from, which would let a model
 * sort mail by server rather than by content. The body is kept as sent: MIME
 * part headers, HTML tags and base64 blocks included (no decoding).
 * A message without a blank line is all header: only its Subject is kept.
 */
export function emailText(message: string): string {
  if (typeof message !== 'string') throw new Error(`fathom.data.emailText: expected a message string, got ${show(message)}`);
  const m = /\r?\n[ \t]*\r?\n/.exec(message);
  const head = m ? message.slice(0, m.index) : message;
  const body = m ? message.slice(m.index + m[0].length) : '';
  const subject = /^subject:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(head);
  const s = subject ? subject[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
  return s === '' ? body : `${s}\n${body}`;
}
